import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore
import NzilaDatabase

/// Configuration (tenant admin): the current version's sections, each edited on its own page (the
/// branding with a live preview of the member app); every save is first shown as a diff against the
/// version the form was opened on, then saved with a reason, `If-Match` naming that version, so a form
/// opened before someone else's save is refused with a clear message; version history, the diff
/// between versions, and rollback. The configuration lives with the control plane: these pages call
/// its routes with the staff member's own token, so it checks, validates and audits each change as
/// for any API client, and the pages show links and forms by the same declared access
/// (`ConfigAccess`).
extension StaffSite {
    /// The sections in the order staff look for them; any other section follows, by name.
    static let settingsOrder = ["branding", "fees", "kyc_limits", "compliance", "rate_limits", "notifications", "domains", "tontine", "lending", "trading"]

    func mountSettings(on router: Router<PlaneRequestContext>) {
        router.get("/portal/settings") { request, context in
            try await withSession(request, context) { page in try await settingsOverview(page) }
        }
        router.get("/portal/settings/diff") { request, context in
            try await withSession(request, context) { page in try await settingsDiff(page) }
        }
        router.get("/portal/settings/rollback") { request, context in
            try await withSession(request, context) { page in
                try await rollbackReview(page, target: try Self.versionNumber(page.request.uri.queryParameters["version"].map(String.init)), failure: nil)
            }
        }
        router.post("/portal/settings/rollback") { request, context in
            try await withSession(request, context, post: true) { page in try await rollback(page) }
        }
        router.get("/portal/settings/sections/:section") { request, context in
            try await withSession(request, context) { page in
                try await sectionForm(page, section: try Self.sectionName(context.parameters.get("section")))
            }
        }
        router.post("/portal/settings/sections/:section/review") { request, context in
            try await withSession(request, context, post: true) { page in
                try await reviewSection(page, section: try Self.sectionName(context.parameters.get("section")))
            }
        }
        router.post("/portal/settings/sections/:section/save") { request, context in
            try await withSession(request, context, post: true) { page in
                try await saveSection(page, section: try Self.sectionName(context.parameters.get("section")))
            }
        }
        // The preview's colours as a stylesheet (inline style is refused by the CSP); only `RRGGBB`
        // hex reaches the CSS.
        router.get("/portal/settings/preview.css") { request, _ in
            let query = request.uri.queryParameters
            let css = ".app-preview{--preview-brand:\(Self.hex(query["primary"], or: "#0B6E4F"));--preview-brand-2:\(Self.hex(query["secondary"], or: "#F2A541"));}\n"
            var fields: HTTPFields = [.contentType: "text/css; charset=utf-8"]
            WebHeaders.apply(to: &fields, cacheable: true)
            return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: css)))
        }
    }

    static func hex(_ raw: Substring?, or fallback: String) -> String {
        guard let raw, raw.wholeMatch(of: /[0-9A-Fa-f]{6}/) != nil else { return fallback }
        return "#\(raw)"
    }

    static func sectionName(_ raw: String?) throws -> String {
        guard let raw, raw.wholeMatch(of: /[a-z][a-z_]{1,39}/) != nil else { throw WebFailure(status: 404, code: "not-found", detail: "No such section.", fields: []) }
        return raw
    }

    static func versionNumber(_ raw: String?) throws -> Int {
        guard let raw, let number = Int(raw), number > 0 else {
            throw WebFailure(status: 422, code: "validation", detail: "A version number is needed.", fields: [("version", "must be a version number")])
        }
        return number
    }

    // MARK: Reading

    struct ConfigRead {
        let version: Int
        let document: [String: Any]
        let record: [String: Any]
    }

    func configPath(_ page: Page) -> String { "/v1/tenants/\(page.tenant.slug)/config" }

    /// The current configuration (`number` nil) or one version of it.
    func readConfig(_ page: Page, number: Int? = nil) async throws -> ConfigRead {
        let path = number.map { "\(configPath(page))/versions/\($0)" } ?? configPath(page)
        let record = try await page.control(.get, path).required().object ?? [:]
        return ConfigRead(version: Int(record.int64("version")), document: record.object("config"), record: record)
    }

    func requireConfig(_ page: Page, write: Bool) throws {
        guard page.may(write ? ConfigAccess.write : ConfigAccess.read) else {
            throw WebFailure(status: 403, code: "forbidden", detail: page.text("error.forbidden"), fields: [])
        }
    }

    /// Every section staff may set, those not set yet included (their defaults apply), then any other
    /// the document holds.
    func orderedSections(_ document: [String: Any]) -> [String] {
        Self.settingsOrder + document.keys.filter { !Self.settingsOrder.contains($0) }.sorted()
    }

    func settingsOverview(_ page: Page) async throws -> Response {
        try requireConfig(page, write: false)
        let current = try await readConfig(page)
        var versionsPath = "\(configPath(page))/versions?limit=20"
        if let cursor = page.request.uri.queryParameters["cursor"] { versionsPath += "&cursor=\(Self.queryEscape(String(cursor)))" }
        let versions = try await page.control(.get, versionsPath).required()
        let mayWrite = page.may(ConfigAccess.write)
        let sections: [[String: Any]] = orderedSections(current.document).map { key in
            let value = current.document[key]
            let summary: String
            if value == nil || value is NSNull {
                summary = page.text("settings.not_set")
            } else if key == "branding", let branding = value as? [String: Any] {
                summary = "\(branding.string("display_name")) · \(branding.string("primary_color")) · \(branding.string("secondary_color"))"
            } else if let object = value as? [String: Any] {
                summary = object.keys.sorted().prefix(6).joined(separator: ", ") + (object.count > 6 ? ", …" : "")
            } else {
                summary = ConfigChange.json(value ?? NSNull())
            }
            return ["key": key, "label": sectionLabel(page, key), "summary": summary]
        }
        let history: [[String: Any]] = versions.items.map { row in
            let number = Int(row.int64("version"))
            let rolledBack = Int(row.int64("rolled_back_from"))
            return [
                "version": number, "at": WebFormat.time(row.string("created_at")), "reason": row.string("reason"),
                "role": row.string("author_role").isEmpty ? "" : page.text("role.\(row.string("author_role"))"),
                "rolledBack": rolledBack > 0 ? page.text("settings.rolled_back_from", ["version": String(rolledBack)]) : "",
                "hasPrevious": number > 1, "previous": number - 1,
                "mayRollBack": mayWrite && number != current.version, "isCurrent": number == current.version,
            ]
        }
        let next = versions.nextCursor.map { "/portal/settings?cursor=\(Self.queryEscape($0))" } ?? ""
        let done = page.request.uri.queryParameters["done"].map(String.init)
        return page.render("settings", title: page.text("settings.title"), [
            "current": current.version, "currentAt": WebFormat.time(current.record.string("created_at")), "currentReason": current.record.string("reason"),
            "sections": sections, "history": history, "mayWrite": mayWrite, "next": next, "hasNext": !next.isEmpty,
            "hasDone": done != nil, "done": done.map { page.text("done.\($0)") } ?? "",
        ])
    }

    func sectionLabel(_ page: Page, _ key: String) -> String {
        let label = page.text("settings.section.\(key)")
        return label == "settings.section.\(key)" ? key : label
    }

    // MARK: Editing a section

    func sectionForm(_ page: Page, section: String) async throws -> Response {
        try requireConfig(page, write: false)
        let current = try await readConfig(page)
        guard current.document[section] != nil || Self.settingsOrder.contains(section) else {
            throw WebFailure(status: 404, code: "not-found", detail: "No such section.", fields: [])
        }
        return sectionPage(page, section: section, version: current.version, value: current.document[section], failure: nil)
    }

    /// The edit form of one section: the branding as fields beside the preview, any other section as
    /// its JSON (the API names any bad field by its path).
    func sectionPage(_ page: Page, section: String, version: Int, value: Any?, failure: WebFailure?, status: HTTPResponse.Status = .ok, sectionJSON: String? = nil, notice: String? = nil) -> Response {
        let branding = value as? [String: Any] ?? [:]
        let locales = branding["locales"] as? [String] ?? []
        var values: [String: Any] = [
            "section": section, "label": sectionLabel(page, section), "version": version, "isBranding": section == "branding",
            "mayWrite": page.may(ConfigAccess.write), "json": sectionJSON ?? Self.prettyJSON(value ?? [String: Any]()),
            "failure": Self.failureContext(failure), "hasFailure": failure != nil, "notice": notice ?? "", "hasNotice": notice != nil,
        ]
        if section == "branding" {
            values["brand"] = [
                "displayName": branding.string("display_name"), "primary": branding.string("primary_color"), "secondary": branding.string("secondary_color"),
                "logo": branding.string("logo_url"), "email": branding.string("support_email"), "phone": branding.string("support_phone"),
                "locales": locales.joined(separator: ", "),
            ]
            values["preview"] = previewContext(page, branding)
        }
        return page.render("settings-section", title: page.text("settings.edit_title", ["section": sectionLabel(page, section)]), values, status: status)
    }

    /// The member app as the preview draws it, in the given branding.
    func previewContext(_ page: Page, _ branding: [String: Any]) -> [String: Any] {
        let primary = branding.string("primary_color"), secondary = branding.string("secondary_color")
        let contrast = WebFormat.contrastWithWhite(primary)
        let name = branding.string("display_name")
        return [
            "css": "/portal/settings/preview.css?primary=\(primary.dropFirst())&secondary=\(secondary.dropFirst())",
            "name": name, "initial": String(name.prefix(1)).uppercased(), "logo": branding.string("logo_url"),
            "hasLogo": !branding.string("logo_url").isEmpty, "balance": page.money(125_000, "CAD"),
            "lowContrast": contrast.map { $0 < 4.5 } ?? false,
            "contrastWarning": contrast.map { page.text("settings.low_contrast", ["ratio": String(format: "%.1f", $0)]) } ?? "",
        ]
    }

    static func prettyJSON(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes, .fragmentsAllowed]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func compactJSON(_ value: Any) -> String { ConfigChange.json(value) }

    /// The section as the form proposes it: the review page's `section_json` as sent, else the
    /// branding form's fields laid over the section the form was opened on (a blank optional field
    /// keeps a null it had, so leaving it blank is no change). JSON that does not parse is named on the
    /// form.
    func proposedSection(_ section: String, form: FormFields, base: Any?) throws -> Any {
        guard let text = form["section_json"] else {
            guard section == "branding" else {
                throw WebFailure(status: 422, code: "validation", detail: "The section is missing.", fields: [("section_json", "is required")])
            }
            var branding = base as? [String: Any] ?? [:]
            branding["display_name"] = form.text("display_name") ?? ""
            branding["primary_color"] = form.text("primary_color") ?? ""
            branding["secondary_color"] = form.text("secondary_color") ?? ""
            branding["locales"] = (form["locales"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for key in ["logo_url", "support_email", "support_phone"] {
                if let value = form.text(key) {
                    branding[key] = value
                } else if branding[key] != nil {
                    branding[key] = NSNull()
                }
            }
            return branding
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw WebFailure(status: 422, code: "validation", detail: "The section is not valid JSON.", fields: [("section_json", "is not valid JSON")])
        }
        return value
    }

    func reviewSection(_ page: Page, section: String) async throws -> Response {
        try requireConfig(page, write: true)
        let form = page.form ?? FormFields([:])
        let version = try Self.versionNumber(form.text("version"))
        let current = try await readConfig(page)
        guard current.version == version else {
            return sectionPage(
                page, section: section, version: current.version, value: current.document[section],
                failure: staleFailure(page, opened: version, current: current.version), status: .preconditionFailed)
        }
        let proposed: Any
        do {
            proposed = try proposedSection(section, form: form, base: current.document[section])
        } catch let failure as WebFailure {
            return sectionPage(page, section: section, version: version, value: nil, failure: failure, status: .unprocessableContent, sectionJSON: form["section_json"])
        }
        let changes = ConfigChange.between(current.document[section], proposed, at: section)
        guard !changes.isEmpty else {
            return sectionPage(page, section: section, version: version, value: proposed, failure: nil, notice: page.text("settings.unchanged"))
        }
        return reviewPage(page, section: section, version: version, proposed: proposed, changes: changes, failure: nil)
    }

    func reviewPage(_ page: Page, section: String, version: Int, proposed: Any, changes: [ConfigChange], failure: WebFailure?, status: HTTPResponse.Status = .ok) -> Response {
        var values: [String: Any] = [
            "action": "/portal/settings/sections/\(section)/save", "formID": "save-form", "version": version, "section": section,
            "sectionJSON": Self.compactJSON(proposed), "changes": changeRows(page, changes), "hasSection": true,
            "intro": page.text("settings.review_intro", ["version": String(version)]), "submit": page.text("settings.save"),
            "back": "/portal/settings/sections/\(section)", "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ]
        if section == "branding", let branding = proposed as? [String: Any] { values["preview"] = previewContext(page, branding) }
        return page.render("settings-review", title: page.text("settings.review_title", ["section": sectionLabel(page, section)]), values, status: status)
    }

    func changeRows(_ page: Page, _ changes: [ConfigChange]) -> [[String: Any]] {
        changes.map { change in
            ["path": change.path, "kind": page.text("settings.change.\(change.kind.rawValue)"), "before": change.before ?? "—", "after": change.after ?? "—"]
        }
    }

    func staleFailure(_ page: Page, opened: Int, current: Int) -> WebFailure {
        WebFailure(status: 412, code: "stale", detail: page.text("settings.stale", ["version": String(opened), "current": String(current)]), fields: [])
    }

    func saveSection(_ page: Page, section: String) async throws -> Response {
        try requireConfig(page, write: true)
        let form = page.form ?? FormFields([:])
        let version = try Self.versionNumber(form.text("version"))
        // The document the form was opened on, with this section replaced; `If-Match` names its version.
        let base = try await readConfig(page, number: version)
        let proposed = try proposedSection(section, form: form, base: base.document[section])
        var document = base.document
        document[section] = proposed
        let answer = try await page.control(
            .put, configPath(page), json: ["config": document, "reason": form["reason"] ?? ""], headers: [.ifMatch: "\"\(version)\""])
        if answer.succeeded {
            if section == "branding" { host.brandingChanged(page.tenant.slug) }
            return webRedirect("/portal/settings?done=config_saved")
        }
        if answer.status == .preconditionFailed {
            let current = try await readConfig(page)
            return sectionPage(page, section: section, version: current.version, value: current.document[section], failure: staleFailure(page, opened: version, current: current.version), status: .preconditionFailed)
        }
        let changes = ConfigChange.between(base.document[section], proposed, at: section)
        return reviewPage(page, section: section, version: version, proposed: proposed, changes: changes, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
    }

    // MARK: History, diff, rollback

    func settingsDiff(_ page: Page) async throws -> Response {
        try requireConfig(page, write: false)
        let query = page.request.uri.queryParameters
        let from = try Self.versionNumber(query["from"].map(String.init)), to = try Self.versionNumber(query["to"].map(String.init))
        let diff = try await page.control(.get, "\(configPath(page))/diff?from=\(from)&to=\(to)").required().object ?? [:]
        let changes: [[String: Any]] = diff.objects("changes").map { change in
            let show: (Any?) -> String = { value in value == nil || value is NSNull ? "—" : ConfigChange.json(value!) }
            return ["path": change.string("path"), "kind": page.text("settings.change.\(change.string("kind"))"), "before": show(change["before"]), "after": show(change["after"])]
        }
        return page.render("settings-diff", title: page.text("settings.diff_title", ["from": String(from), "to": String(to)]), [
            "changes": changes, "hasChanges": !changes.isEmpty,
        ])
    }

    func rollbackReview(_ page: Page, target: Int, failure: WebFailure?, status: HTTPResponse.Status = .ok) async throws -> Response {
        try requireConfig(page, write: true)
        let current = try await readConfig(page)
        let old = try await readConfig(page, number: target)
        let changes = ConfigChange.between(current.document, old.document)
        return page.render("settings-review", title: page.text("settings.rollback_title", ["version": String(target)]), [
            "action": "/portal/settings/rollback", "formID": "rollback-form", "version": current.version, "target": target, "hasTarget": true,
            "changes": changeRows(page, changes), "submit": page.text("settings.rollback"), "back": "/portal/settings",
            "intro": page.text("settings.rollback_intro", ["version": String(target), "current": String(current.version)]),
            "failure": Self.failureContext(failure), "hasFailure": failure != nil,
        ], status: status)
    }

    func rollback(_ page: Page) async throws -> Response {
        try requireConfig(page, write: true)
        let form = page.form ?? FormFields([:])
        let version = try Self.versionNumber(form.text("version"))
        let target = try Self.versionNumber(form.text("target"))
        let answer = try await page.control(
            .post, "\(configPath(page))/rollback", json: ["version": target, "reason": form["reason"] ?? ""], headers: [.ifMatch: "\"\(version)\""])
        if answer.succeeded {
            host.brandingChanged(page.tenant.slug)
            return webRedirect("/portal/settings?done=config_rolled_back")
        }
        if answer.status == .preconditionFailed {
            let current = try await readConfig(page)
            return try await rollbackReview(page, target: target, failure: staleFailure(page, opened: version, current: current.version), status: .preconditionFailed)
        }
        return try await rollbackReview(page, target: target, failure: answer.failure, status: HTTPResponse.Status(code: answer.status.code))
    }
}
