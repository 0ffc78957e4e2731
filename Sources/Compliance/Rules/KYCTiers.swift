import NzilaValues

/// A piece of KYC evidence on file for a member.
public enum KYCEvidence: String, Sendable, Codable, CaseIterable {
    case passport, nationalID = "national_id", driversLicence = "drivers_licence", permanentResidentCard = "permanent_resident_card"
    case selfieMatch = "selfie_match", proofOfAddress = "proof_of_address", sourceOfFunds = "source_of_funds", eddInterview = "edd_interview"

    /// Government identity documents: a number is required, and it is sealed at rest.
    public var isIdentityDocument: Bool { [.passport, .nationalID, .driversLicence, .permanentResidentCard].contains(self) }
}

/// DOMAIN.md's tiers: 1 basic (email + phone), 2 standard (government ID + selfie match), 3 enhanced
/// (+ proof of address + source of funds), 4 premium (+ enhanced due diligence interview, decided by a
/// compliance officer or tenant admin). Moving a member down needs only a reason.
public enum KYCTiers {
    public enum Refusal: DomainError, Equatable, Sendable {
        case sameTier
        case missingEvidence([KYCEvidence])
        case seniorOnly

        public var ruleError: RuleError {
            switch self {
            case .sameTier: return RuleError.invalid(field: "tier", "is the member's tier already")
            case .missingEvidence(let missing):
                return RuleError(
                    .unprocessable, "kyc-evidence-missing", "KYC evidence missing",
                    detail: "This tier needs evidence on file that is not, or has expired: \(missing.map(\.rawValue).joined(separator: ", ")).")
            case .seniorOnly: return RuleError.forbidden("Tier 4 is granted by a compliance officer or a tenant admin.")
            }
        }
    }

    /// What each tier needs on file, cumulatively; an identity document of any of the four kinds counts.
    static func needs(_ tier: Int) -> [[KYCEvidence]] {
        let identity: [KYCEvidence] = [.passport, .nationalID, .driversLicence, .permanentResidentCard]
        var needs: [[KYCEvidence]] = []
        if tier >= 2 { needs += [identity, [.selfieMatch]] }
        if tier >= 3 { needs += [[.proofOfAddress], [.sourceOfFunds]] }
        if tier >= 4 { needs += [[.eddInterview]] }
        return needs
    }

    /// Why a member may not move from `current` to `target` with `evidence` (unexpired, on file), by
    /// `role`; nil when the move is allowed.
    public static func refusal(from current: Int, to target: Int, evidence: Set<KYCEvidence>, role: Role) -> Refusal? {
        if current == target { return .sameTier }
        if target < current { return nil }
        if target == 4, ![.complianceOfficer, .tenantAdmin].contains(role) { return .seniorOnly }
        let missing = needs(target).filter { evidence.isDisjoint(with: $0) }.map { $0[0] }
        return missing.isEmpty ? nil : .missingEvidence(missing)
    }
}
