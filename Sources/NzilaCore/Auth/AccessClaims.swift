import Foundation
import Hummingbird
import JWTKit

extension Role {
    /// The planes a token for this role is meant for (API.md): admins the control plane, members the
    /// data plane, tenant staff both.
    public var audiences: [String] {
        switch self {
        case .platformAdmin: return [Audience.controlPlane]
        case .member: return [Audience.dataPlane]
        default: return [Audience.controlPlane, Audience.dataPlane]
        }
    }
}

public enum Audience {
    public static let controlPlane = "control-plane"
    public static let dataPlane = "data-plane"
}

/// The claims of an access token, exactly the set API.md lists.
public struct AccessClaims: JWTPayload, Equatable {
    public static let issuer = "nzila"

    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var sub: SubjectClaim
    public var tenant: String?
    public var role: Role
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim

    public init(subject: UUID, tenant: String?, role: Role, issuedAt: Date, lifetimeSeconds: Int) {
        self.iss = IssuerClaim(value: AccessClaims.issuer)
        self.aud = AudienceClaim(value: role.audiences)
        self.sub = SubjectClaim(value: subject.lowercased)
        self.tenant = tenant
        self.role = role
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: issuedAt.addingTimeInterval(TimeInterval(lifetimeSeconds)))
    }

    /// Signature checks are done by the caller; this checks what the claims say about themselves.
    /// Signature-time checks. Expiry is not judged here: jwt-kit would read the machine's clock, and
    /// `TokenVerifier.verify` judges it by the platform clock it is given.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        guard iss.value == AccessClaims.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "issuer") }
        guard (tenant == nil) == (role == .platformAdmin) else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "tenant claim does not fit the role")
        }
    }

    /// Checks the audience and the tenant against what the serving plane expects.
    public func check(audience: String) throws(Problem) {
        guard aud.value.contains(audience) else { throw Problem.unauthorized("The token is not meant for this service.") }
    }

    public var subjectID: UUID? { UUID(uuidString: sub.value) }
}

public struct AuditActor: Sendable, Equatable {
    public let id: UUID
    public let role: Role
    public let requestID: String?

    public init(id: UUID, role: Role, requestID: String?) {
        self.id = id
        self.role = role
        self.requestID = requestID
    }

    public init(_ principal: Principal, request: Request) {
        self.init(id: principal.id, role: principal.role, requestID: request.headers[.requestID])
    }
}
