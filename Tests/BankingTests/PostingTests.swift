import Banking
import Ledger
import Foundation
import NzilaCore
import Testing

@Suite("Posting rules")
struct PostingTests {
    static let cad = Currency(code: "CAD")!
    static func account(balance: Int64, held: Int64 = 0, floor: Int64? = 0, status: AccountStatus = .open, currency: Currency = cad) -> AccountSnapshot {
        AccountSnapshot(
            id: AccountID(UUID()), memberID: MemberID(UUID()), currency: currency, status: status, balanceMinor: balance, heldMinor: held,
            floorMinor: floor)
    }

    @Test func balancedTransfer() throws {
        let from = Self.account(balance: 1_000)
        let to = Self.account(balance: 0)
        let plan = try Posting.transfer(from: from, to: to, amount: Money(minorUnits: 1_000, currency: Self.cad), kind: "transfer", memo: "")
        #expect(plan.legs.map(\.amount.minorUnits) == [-1_000, 1_000])
        #expect(plan.legs.map(\.account) == [from.id, to.id])
    }

    @Test(arguments: [(Int64(1_000), Int64(0), Int64(1_001)), (1_000, 400, 601), (0, 0, 1)])
    func refusesBelowFloor(balance: Int64, held: Int64, amount: Int64) {
        let from = Self.account(balance: balance, held: held)
        #expect(throws: PostingError.self) {
            try Posting.transfer(from: from, to: Self.account(balance: 0), amount: Money(minorUnits: amount, currency: Self.cad), kind: "t", memo: "")
        }
    }

    @Test func creditUnionAccountsHaveNoFloor() throws {
        let cash = Self.account(balance: 0, floor: nil)
        _ = try Posting.transfer(from: cash, to: Self.account(balance: 0), amount: Money(minorUnits: 50, currency: Self.cad), kind: "deposit", memo: "")
    }

    @Test func refusesFrozenMismatchedAndSameAccount() {
        let frozen = Self.account(balance: 1_000, status: .frozen)
        let open = Self.account(balance: 1_000)
        let amount = Money(minorUnits: 1, currency: Self.cad)
        #expect(throws: PostingError.accountFrozen(frozen.id, status: .frozen)) { try Posting.transfer(from: frozen, to: open, amount: amount, kind: "t", memo: "") }
        #expect(throws: PostingError.accountFrozen(frozen.id, status: .frozen)) { try Posting.transfer(from: open, to: frozen, amount: amount, kind: "t", memo: "") }
        let xof = Self.account(balance: 1_000, currency: Currency(code: "XOF")!)
        #expect(throws: PostingError.self) { try Posting.transfer(from: open, to: xof, amount: amount, kind: "t", memo: "") }
        #expect(throws: PostingError.sameAccount) { try Posting.transfer(from: open, to: open, amount: amount, kind: "t", memo: "") }
    }

    @Test func problemsHaveStableTypes() {
        let id = AccountID(UUID())
        let money = Money(minorUnits: 1, currency: Self.cad)
        #expect(PostingError.insufficientFunds(account: id, available: money, needed: money).ruleError.problem.code == "insufficient-funds")
        #expect(PostingError.accountFrozen(id, status: .closed).ruleError.problem.code == "account-frozen")
        #expect(PostingError.currencyMismatch(account: id, accountCurrency: Self.cad, requested: Self.cad).ruleError.problem.code == "currency-mismatch")
        #expect(PostingError.insufficientFunds(account: id, available: money, needed: money).ruleError.problem.status == .unprocessableContent)
    }

    @Test(arguments: [(Int64(1), true), (1_000_000_000, true), (0, false), (-1, false), (1_000_000_001, false)])
    func amountBounds(minor: Int64, valid: Bool) {
        let accepted = (try? Posting.validateAmount(minor, currency: Self.cad)) != nil
        #expect(accepted == valid)
    }

    @Test func reversalNegatesAndNamesTheOriginal() throws {
        let a = Self.account(balance: 500)
        let b = Self.account(balance: 500)
        let legs = [Leg.test(a.id, -200), Leg.test(b.id, 200)]
        let original = UUID()
        let plan = try Posting.reversal(of: original, legs: legs, accounts: [a.id: a, b.id: b], memo: "fix")
        #expect(plan.legs.map(\.amount.minorUnits) == [200, -200] && plan.reverses == original)
        let spent = Self.account(balance: 100)
        #expect(throws: PostingError.self) {
            try Posting.reversal(of: original, legs: [Leg.test(a.id, -200), Leg.test(spent.id, 200)], accounts: [a.id: a, spent.id: spent], memo: "")
        }
    }
}

extension Leg {
    static func test(_ account: AccountID, _ minor: Int64) -> Leg {
        Leg(account: account, amount: Money(minorUnits: minor, currency: PostingTests.cad))
    }
}
