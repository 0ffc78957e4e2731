import Ledger

/// Lending's invariants, checked by `nzila tenants verify-ledger` beside the ledger's own and after
/// every test storm:
///
/// - per loan, the principal outstanding = disbursed principal − principal repaid − written off;
/// - the receivable account (per currency) is −Σ principal outstanding of its loans;
/// - every repayment's parts sum to its amount, and its journal took exactly that from the member.
public enum LendingLedgerChecks {
    public static let all: [LedgerVerifier.Check] = [
        LedgerVerifier.Check(
            kind: "loan-principal",
            sql: """
                SELECT l.id::text, format('loan says %s outstanding; disbursed %s - repaid %s - written off %s = %s',
                                          l.principal_outstanding_minor, l.principal_minor, coalesce(r.principal, 0), l.written_off_minor,
                                          l.principal_minor - coalesce(r.principal, 0) - l.written_off_minor)
                FROM loans l LEFT JOIN (SELECT loan_id, sum(principal_minor) AS principal FROM loan_repayments GROUP BY loan_id) r ON r.loan_id = l.id
                WHERE l.disbursement_journal_id IS NOT NULL
                  AND (l.principal_outstanding_minor <> l.principal_minor - coalesce(r.principal, 0) - l.written_off_minor
                       OR (l.state = 'closed' AND l.principal_outstanding_minor <> 0))
                """, requires: "loan_repayments"),
        LedgerVerifier.Check(
            kind: "loan-receivable",
            sql: """
                SELECT a.id::text, format('loans_receivable holds %s; loans outstanding are %s %s', a.balance_minor, coalesce(o.outstanding, 0), a.currency)
                FROM accounts a
                LEFT JOIN (SELECT currency, sum(principal_outstanding_minor) AS outstanding FROM loans
                           WHERE disbursement_journal_id IS NOT NULL GROUP BY currency) o ON o.currency = a.currency
                WHERE a.kind = 'loans_receivable' AND a.member_id IS NULL AND -a.balance_minor <> coalesce(o.outstanding, 0)
                """, requires: "loan_repayments"),
        LedgerVerifier.Check(
            kind: "loan-repayment-parts",
            sql: """
                SELECT r.id::text, format('repayment of %s: parts sum to %s, its journal took %s from the member', r.amount_minor,
                                          coalesce(p.total, 0), coalesce(-e.amount_minor, 0))
                FROM loan_repayments r
                LEFT JOIN (SELECT repayment_id, sum(penalty_minor + fee_minor + interest_minor + principal_minor) AS total
                           FROM loan_repayment_parts GROUP BY repayment_id) p ON p.repayment_id = r.id
                LEFT JOIN entries e ON e.journal_id = r.journal_id AND e.account_id = r.account_id
                WHERE coalesce(p.total, 0) <> r.amount_minor OR coalesce(-e.amount_minor, 0) <> r.amount_minor
                """, requires: "loan_repayments"),
    ]
}
