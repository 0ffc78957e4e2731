/// Who may read and change a tenant's configuration: declared once, used by the control plane's
/// configuration routes and by the portal's settings pages (which call those routes over HTTP, so
/// their links and forms are shown by the same rule the route enforces).
public enum ConfigAccess {
    /// `GET /v1/tenants/{slug}/config`, its versions and diffs.
    public static let read = Access.staff(.readConfig)
    /// `PUT /v1/tenants/{slug}/config` and `POST …/config/rollback`.
    public static let write = Access.staff(.writeConfig)
}
