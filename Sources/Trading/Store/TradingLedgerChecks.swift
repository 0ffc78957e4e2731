import Ledger

/// Paper trading's invariants, checked by `nzila tenants verify-ledger` beside the ledger's own
/// (paper money is not on the ledger, but it is held to the same standard):
///
/// - per paper account, cash = starting cash + Σ sells − Σ buys − Σ fees (in CAD cents, each fill at
///   its recorded rate), fees = Σ fill fees, and the reservation = Σ of its working buys';
/// - per position, shares = Σ bought − Σ sold;
/// - per main account, what it holds back for copies = Σ of its member's copies not yet settled.
public enum TradingLedgerChecks {
    public static let all: [LedgerVerifier.Check] = [
        LedgerVerifier.Check(
            kind: "paper-cash",
            sql: """
                SELECT a.id::text, format('paper cash %s; start %s + sells %s - buys %s - fees %s = %s; fees say %s; reserved %s, working buys hold %s',
                                          a.cash_minor, a.starting_cash_minor, coalesce(f.sells, 0), coalesce(f.buys, 0), coalesce(f.fees, 0),
                                          a.starting_cash_minor + coalesce(f.sells, 0) - coalesce(f.buys, 0) - coalesce(f.fees, 0), a.fees_minor,
                                          a.reserved_minor, coalesce(o.held, 0))
                FROM trading_accounts a
                LEFT JOIN (SELECT account_id, sum(cad_minor) FILTER (WHERE side = 'sell') AS sells, sum(cad_minor) FILTER (WHERE side = 'buy') AS buys,
                                  sum(fee_minor) AS fees FROM trading_fills GROUP BY account_id) f ON f.account_id = a.id
                LEFT JOIN (SELECT account_id, sum(reserved_minor) AS held FROM trading_orders WHERE status IN ('new', 'partially_filled') GROUP BY account_id) o
                       ON o.account_id = a.id
                WHERE a.cash_minor <> a.starting_cash_minor + coalesce(f.sells, 0) - coalesce(f.buys, 0) - coalesce(f.fees, 0)
                   OR a.fees_minor <> coalesce(f.fees, 0) OR a.reserved_minor <> coalesce(o.held, 0)
                """, requires: "trading_fills"),
        LedgerVerifier.Check(
            kind: "paper-position",
            sql: """
                SELECT p.account_id::text || ':' || p.symbol, format('position of %s shares; fills say %s', p.qty, coalesce(f.net, 0))
                FROM trading_positions p
                LEFT JOIN (SELECT account_id, symbol, sum(CASE WHEN side = 'buy' THEN qty ELSE -qty END) AS net FROM trading_fills GROUP BY account_id, symbol) f
                       ON f.account_id = p.account_id AND f.symbol = p.symbol
                WHERE p.qty <> coalesce(f.net, 0)
                """, requires: "trading_fills"),
        LedgerVerifier.Check(
            kind: "paper-allocated",
            sql: """
                SELECT a.id::text, format('held back for copies %s; unsettled copies say %s', a.allocated_minor, coalesce(c.held, 0))
                FROM trading_accounts a
                LEFT JOIN (SELECT follower_id, sum(allocated_minor) AS held FROM trading_copies WHERE settled_at IS NULL GROUP BY follower_id) c
                       ON c.follower_id = a.member_id
                WHERE a.kind = 'main' AND a.allocated_minor <> coalesce(c.held, 0)
                """, requires: "trading_copies"),
    ]
}
