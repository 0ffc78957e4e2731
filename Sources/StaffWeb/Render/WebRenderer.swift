import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The templates (Mustache, HTML-escaped by default), the static files and the strings of both
/// languages, loaded once from the module's resources.
public struct WebRenderer: Sendable {
    let library: MustacheLibrary
    /// Strings by locale, then key; French falls back to English key by key.
    let strings: [String: [String: String]]
    /// The same strings as nested dictionaries (`nav.label` under `nav`), for `{{t.nav.label}}`.
    let trees: [String: [String: any Sendable]]
    /// Static files by name, with their content type and a digest for the URL and the ETag.
    let assets: [String: Asset]

    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String
    }

    public static let shared: WebRenderer = {
        do { return try WebRenderer(bundle: Bundle.module) } catch { fatalError("staff web resources unreadable: \(error)") }
    }()

    init(bundle: Bundle) throws {
        guard let root = bundle.resourceURL else { throw CocoaError(.fileNoSuchFile) }
        let files = FileManager.default
        var templates: [String: MustacheTemplate] = [:]
        let templateRoot = root.appendingPathComponent("Templates")
        for name in try files.contentsOfDirectory(atPath: templateRoot.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templateRoot.appendingPathComponent(name), encoding: .utf8)
            templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
        var strings: [String: [String: String]] = [:]
        for locale in WebLocale.all {
            let data = try Data(contentsOf: root.appendingPathComponent("Strings/\(locale).json"))
            strings[locale] = try JSONDecoder().decode([String: String].self, from: data)
        }
        let english = strings["en"] ?? [:]
        for locale in WebLocale.all where locale != "en" {
            strings[locale] = english.merging(strings[locale] ?? [:]) { _, own in own }
        }
        self.strings = strings
        self.trees = strings.mapValues(Self.tree)
        var assets: [String: Asset] = [:]
        let staticRoot = root.appendingPathComponent("Static")
        for name in try files.contentsOfDirectory(atPath: staticRoot.path) {
            let bytes = [UInt8](try Data(contentsOf: staticRoot.appendingPathComponent(name)))
            let type = name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".js") ? "text/javascript; charset=utf-8"
                : name.hasSuffix(".svg") ? "image/svg+xml" : "application/octet-stream"
            assets[name] = Asset(bytes: bytes, contentType: type, etag: "\"\(WebFormat.shortDigest(bytes))\"")
        }
        self.assets = assets
    }

    /// The strings of `locale` (English for an unknown one).
    public func strings(_ locale: String) -> [String: String] { strings[locale] ?? strings["en"] ?? [:] }

    /// The strings of `locale` nested by their dotted keys, for templates.
    public func tree(_ locale: String) -> [String: any Sendable] { trees[locale] ?? trees["en"] ?? [:] }

    static func tree(_ flat: [String: String]) -> [String: any Sendable] {
        var root: [String: any Sendable] = [:]
        func insert(_ path: ArraySlice<Substring>, _ value: String, into node: inout [String: any Sendable]) {
            guard let head = path.first else { return }
            if path.count == 1 {
                node[String(head)] = value
                return
            }
            var child = node[String(head)] as? [String: any Sendable] ?? [:]
            insert(path.dropFirst(), value, into: &child)
            node[String(head)] = child
        }
        for (key, value) in flat { insert(key.split(separator: ".")[...], value, into: &root) }
        return root
    }

    /// One string, with `{name}` placeholders filled.
    public func text(_ key: String, _ locale: String, _ values: [String: String] = [:]) -> String {
        var text = strings(locale)[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    /// Renders a template to HTML.
    public func html(_ template: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? ""
    }

    /// A page: the rendered template as an HTML response with the surface's security headers.
    public func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var fields = extra
        fields[.contentType] = "text/html; charset=utf-8"
        WebHeaders.apply(to: &fields)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html(template, context))))
    }

    /// A static file (CSS, the few scripts), cacheable, 304 when the browser has it.
    public func asset(_ name: String, request: Request) -> Response? {
        guard let asset = assets[name] else { return nil }
        var fields: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag]
        WebHeaders.apply(to: &fields, cacheable: true)
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: fields) }
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    /// The asset's URL with its digest, so a changed file is fetched again.
    public func assetVersion(_ name: String) -> String { assets[name].map { String($0.etag.dropFirst().dropLast()) } ?? "0" }
}

/// A `303 See Other` after a successful form post (the browser then GETs the page: a reload does not
/// post again), with the surface's headers.
public func webRedirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
    var fields = extra
    fields[.location] = location
    WebHeaders.apply(to: &fields)
    return Response(status: .seeOther, headers: fields)
}
