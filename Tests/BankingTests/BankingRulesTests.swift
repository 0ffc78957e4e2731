import Banking
import Ledger
import Foundation
import NzilaCore
import Testing
import Yams

@Suite("Banking rules")
struct BankingRulesTests {
    @Test func validMember() throws {
        let member = try NewMember.validate(email: " Ada@Example.com", fullName: " Ada Obi ", phone: "+14165550100", password: "twelve chars!")
        #expect(member.email == "ada@example.com" && member.fullName == "Ada Obi")
    }

    @Test func reportsEveryBadField() {
        do {
            _ = try NewMember.validate(email: "nope", fullName: "", phone: "416", password: "short")
            Issue.record("accepted bad input")
        } catch {
            #expect(Set(error.errors.map(\.field)) == ["email", "full_name", "phone", "password"])
        }
    }

    @Test("open and frozen move both ways; an account closes only empty, and closed is final")
    func accountStatusMoves() throws {
        func code(_ from: AccountStatus, _ to: AccountStatus, balance: Int64 = 0, held: Int64 = 0) -> String? {
            do {
                try AccountStatus.change(from: from, to: to, balanceMinor: balance, heldMinor: held)
                return nil
            } catch { return error.code }
        }
        #expect(code(.open, .frozen, balance: 500) == nil)
        #expect(code(.frozen, .open, balance: 500, held: 100) == nil)
        #expect(code(.open, .closed) == nil && code(.frozen, .closed) == nil)
        #expect(code(.open, .closed, balance: 1) == "account-not-empty")
        #expect(code(.frozen, .closed, held: 1) == "account-not-empty")
        #expect(code(.open, .closed, balance: -1) == "account-not-empty")
        for target in AccountStatus.allCases { #expect(code(.closed, target) == "invalid-transition") }
        #expect(code(.open, .open) == "invalid-transition" && code(.frozen, .frozen) == "invalid-transition")
        #expect(AccountStatus.closed.permission == .closeAccount && AccountStatus.frozen.permission == .freezeAccount)
        #expect(Role.complianceOfficer.may(.freezeAccount) && !Role.complianceOfficer.may(.closeAccount))
        #expect(!Role.teller.may(.freezeAccount) && Role.tenantAdmin.may(.closeAccount))
        #expect(try AccountStatus.validateReason("  court order 2026-114 ") == "court order 2026-114")
        #expect(throws: RuleError.self) { try AccountStatus.validateReason("   ") }
        #expect(throws: RuleError.self) { try AccountStatus.validateReason(String(repeating: "x", count: 501)) }
    }

    @Test func membersOpenTheirOwnAccounts() throws {
        let me = UUID()
        let member = Principal(id: me, role: .member, tenant: "demo")
        #expect(try AccountOwnerRule.owner(requested: nil, principal: member).rawValue == me)
        #expect(try AccountOwnerRule.owner(requested: me, principal: member).rawValue == me)
        #expect(throws: RuleError.self) { try AccountOwnerRule.owner(requested: UUID(), principal: member) }
    }

    @Test(arguments: [Role.tenantAdmin, .teller])
    func staffNameTheMember(role: Role) throws {
        let staff = Principal(id: UUID(), role: role, tenant: "demo")
        let target = UUID()
        #expect(try AccountOwnerRule.owner(requested: target, principal: staff).rawValue == target)
        #expect(throws: RuleError.self) { try AccountOwnerRule.owner(requested: nil, principal: staff) }
    }

    @Test(arguments: [Role.auditor, .complianceOfficer])
    func readOnlyStaffCannotOpen(role: Role) {
        #expect(throws: RuleError.forbidden("Your role may not open accounts.")) {
            try AccountOwnerRule.owner(requested: UUID(), principal: Principal(id: UUID(), role: role, tenant: "demo"))
        }
        #expect(role.may(.readAccounts) && !role.may(.createMember))
    }

    @Test func membersAndAdminsHaveNoBankingMatrixRights() {
        let banking: [Permission] = [
            .createMember, .readMembers, .openAccount, .readAccounts, .freezeAccount, .closeAccount, .postCash, .transferAny, .readLedger, .reverseJournal,
        ]
        for permission in banking {
            #expect(!Role.member.may(permission))
            #expect(!Role.platformAdmin.may(permission))
            #expect(Role.tenantAdmin.may(permission))
        }
        #expect(Permission.allCases.allSatisfy { !Role.member.may($0) })
    }

    @Test func matrixMatchesPolicyFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../policies/staff_roles.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: [String]])
        let roles = Role.staffRoles + [.platformAdmin]
        #expect(Set(document.keys) == Set(roles.map(\.rawValue)))
        for role in roles {
            let listed = Set(document[role.rawValue] ?? [])
            #expect(listed == Set(Role.matrix[role, default: []].map(\.rawValue)), "\(role.rawValue)")
        }
    }
}
