import Foundation

/// Who may call a route: declared once, where the route is registered. The same value is checked on
/// every request, documented in the OpenAPI document (`x-permission`, `x-members`) and read back by
/// the permission-matrix test.
public enum Access: Sendable, Equatable {
    /// No bearer token: health, keys, logins and signed webhooks.
    case open
    /// Staff whose role holds the permission; members are refused.
    case staff(Permission)
    /// A member, on their own data only (the handler scopes what it reads or changes to the member),
    /// or staff whose role holds the permission.
    case ownOrStaff(Permission)

    public var isPublic: Bool { self == .open }

    /// The staff permission the route needs (nil: an open route).
    public var permission: Permission? {
        switch self {
        case .open: nil
        case .staff(let permission), .ownOrStaff(let permission): permission
        }
    }

    /// Whether members may call it, on their own data.
    public var members: Bool {
        if case .ownOrStaff = self { return true }
        return false
    }

    /// 403 unless `principal` may call the route.
    public func check(_ principal: Principal) throws(Problem) {
        guard let permission else { return }
        if principal.role == .member, members { return }
        guard principal.role.may(permission) else { throw Problem.forbidden("Your role may not do this (\(permission.rawValue)).") }
    }
}

/// A request context that carries its authenticated caller, so routes on it can check `Access`.
public protocol PrincipalRequestContext {
    var principal: Principal { get }
}
