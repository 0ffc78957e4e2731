import Ledger

/// The circle's invariants, checked by `nzila tenants verify-ledger` beside the ledger's own and
/// after every test storm:
///
/// - a pool's balance = contributions + advances − payouts − refunds, never negative, and exactly 0
///   once the circle has completed or been dissolved;
/// - the guarantee account (per currency) is −(advances − advances recovered);
/// - the arrears account (per currency) is −(penalties booked − penalties recovered);
/// - each member's arrears rows agree with the movements that booked and recovered them.
public enum TontineLedgerChecks {
    public static let all: [LedgerVerifier.Check] = [
        LedgerVerifier.Check(
            kind: "tontine-pool",
            sql: """
                SELECT c.id::text, format('pool %s holds %s; contributions + advances - payouts - refunds = %s; circle %s',
                                          a.id, a.balance_minor, coalesce(m.expected, 0), c.state)
                FROM tontine_circles c JOIN accounts a ON a.id = c.pool_account_id
                LEFT JOIN (SELECT circle_id, sum(CASE WHEN kind IN ('contribution', 'advance') THEN amount_minor
                                                      WHEN kind IN ('payout', 'refund') THEN -amount_minor ELSE 0 END) AS expected
                           FROM tontine_movements GROUP BY circle_id) m ON m.circle_id = c.id
                WHERE a.balance_minor <> coalesce(m.expected, 0) OR a.balance_minor < 0
                   OR (c.state IN ('completed', 'dissolved') AND a.balance_minor <> 0)
                """, requires: "tontine_movements"),
        outstanding("tontine-guarantee", account: "tontine_guarantee", booked: "advance", recovered: "advance_recovered", what: "advances"),
        outstanding("tontine-arrears", account: "tontine_arrears", booked: "penalty_booked", recovered: "penalty_recovered", what: "penalties"),
        LedgerVerifier.Check(
            kind: "tontine-member-arrears",
            sql: """
                WITH rows AS (
                    SELECT circle_id, member_id, sum(advanced_minor) AS advanced, sum(penalty_minor) AS penalty,
                           sum(advance_recovered_minor) AS advance_recovered, sum(penalty_recovered_minor) AS penalty_recovered
                    FROM tontine_arrears GROUP BY circle_id, member_id),
                moves AS (
                    SELECT circle_id, member_id,
                           sum(amount_minor) FILTER (WHERE kind = 'advance') AS advanced,
                           sum(amount_minor) FILTER (WHERE kind = 'penalty_booked') AS penalty,
                           sum(amount_minor) FILTER (WHERE kind = 'advance_recovered') AS advance_recovered,
                           sum(amount_minor) FILTER (WHERE kind = 'penalty_recovered') AS penalty_recovered
                    FROM tontine_movements WHERE kind IN ('advance', 'penalty_booked', 'advance_recovered', 'penalty_recovered')
                    GROUP BY circle_id, member_id)
                SELECT coalesce(r.circle_id, m.circle_id)::text || '/' || coalesce(r.member_id, m.member_id)::text,
                       format('arrears rows say advanced %s, penalty %s, recovered %s + %s; movements say %s, %s, %s + %s',
                              coalesce(r.advanced, 0), coalesce(r.penalty, 0), coalesce(r.advance_recovered, 0), coalesce(r.penalty_recovered, 0),
                              coalesce(m.advanced, 0), coalesce(m.penalty, 0), coalesce(m.advance_recovered, 0), coalesce(m.penalty_recovered, 0))
                FROM rows r FULL JOIN moves m ON m.circle_id = r.circle_id AND m.member_id = r.member_id
                WHERE coalesce(r.advanced, 0) <> coalesce(m.advanced, 0) OR coalesce(r.penalty, 0) <> coalesce(m.penalty, 0)
                   OR coalesce(r.advance_recovered, 0) <> coalesce(m.advance_recovered, 0)
                   OR coalesce(r.penalty_recovered, 0) <> coalesce(m.penalty_recovered, 0)
                """, requires: "tontine_movements"),
    ]

    /// The credit union's `account` (one per currency) holds minus what is outstanding: every
    /// `booked` movement of its currency's circles less every `recovered` one.
    static func outstanding(_ kind: String, account: String, booked: String, recovered: String, what: String) -> LedgerVerifier.Check {
        LedgerVerifier.Check(
            kind: kind,
            sql: """
                SELECT a.id::text, format('%s account holds %s; %s outstanding are %s %s', '\(account)', a.balance_minor, '\(what)',
                                          coalesce(m.outstanding, 0), a.currency)
                FROM accounts a
                LEFT JOIN (SELECT c.currency, sum(CASE v.kind WHEN '\(booked)' THEN v.amount_minor ELSE -v.amount_minor END) AS outstanding
                           FROM tontine_movements v JOIN tontine_circles c ON c.id = v.circle_id
                           WHERE v.kind IN ('\(booked)', '\(recovered)') GROUP BY c.currency) m ON m.currency = a.currency
                WHERE a.kind = '\(account)' AND -a.balance_minor <> coalesce(m.outstanding, 0)
                """, requires: "tontine_movements")
    }
}
