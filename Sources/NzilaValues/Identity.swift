import Foundation

/// Who may do what; staff roles come from `policies/staff_roles.yaml`.
public enum Role: String, Codable, Sendable, CaseIterable {
    case platformAdmin = "platform_admin"
    case tenantAdmin = "tenant_admin"
    case complianceOfficer = "compliance_officer"
    case teller
    case auditor
    case member

    public static let staffRoles: [Role] = [.tenantAdmin, .complianceOfficer, .teller, .auditor]

    public var isStaff: Bool { Role.staffRoles.contains(self) }
}

/// The authenticated caller of a request.
public struct Principal: Sendable, Equatable {
    public let id: UUID
    public let role: Role
    public let tenant: String?

    public init(id: UUID, role: Role, tenant: String?) {
        self.id = id
        self.role = role
        self.tenant = tenant
    }
}

/// Who moved a resource along its state machine, as a status log records it: a caller, or the
/// platform's own worker (`system`) or a signed webhook, which have no id.
public struct ChangeActor: Sendable, Equatable {
    public let id: UUID?
    public let role: String

    public init(id: UUID?, role: String) {
        self.id = id
        self.role = role
    }

    public init(_ principal: Principal) { self.init(id: principal.id, role: principal.role.rawValue) }

    /// A data plane's own worker or scheduler.
    public static let system = ChangeActor(id: nil, role: "system")
}
