/// Who may read and change a tenant's configuration: declared once, used by the control plane's
/// configuration routes and by the portal's settings pages (which call those routes over HTTP, so
/// their links and forms are shown by the same rule the route enforces).
public enum ConfigAccess {
    /// `GET /v1/tenants/{slug}/config`, its versions and diffs.
    public static let read = Access.staff(.readConfig)
    /// `PUT /v1/tenants/{slug}/config` and `POST …/config/rollback`.
    public static let write = Access.staff(.writeConfig)
}

/// Who may read the audit log (`GET /v1/audit` on the control plane): declared once, used by that
/// route, the console and the portal's audit page (a tenant's staff read only their own tenant's).
public enum AuditAccess {
    public static let read = Access.staff(.readAudit)
}
