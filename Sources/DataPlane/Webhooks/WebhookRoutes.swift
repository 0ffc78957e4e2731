import Foundation
import Hummingbird
import NzilaCore
import NzilaDatabase

/// A tenant admin's webhook endpoints, their deliveries, and manual retries (permission
/// `webhooks.manage`; every write is audited as a staff write).
struct WebhookEndpointBody: StrictBody {
    static let fields: Set<String> = ["url", "event_types", "description"]
    /// `https://…` (http:// to loopback only under `nzila dev`).
    let url: String
    /// Event types (`remittance.delivered.v1`), `<domain>.*` or `*`.
    let eventTypes: [String]
    let description: String?
}

extension DataPlane {
    /// Every event type this plane's domains write, and the platform's own.
    var knownEventTypes: Set<String> {
        Set(modules.flatMap(\.events) + [WebhookEndpointDisabled.eventType])
    }

    func addWebhookRoutes(_ routes: TenantRoutes) {
        let access = Access.staff(.manageWebhooks)
        let known = knownEventTypes
        let allowLoopback = settings.webhooks.allowLoopback
        let secrets = self.secrets
        /// The path's endpoint after `change` (nil from it: there is none, 404).
        @Sendable func endpoint(
            _ context: TenantRequestContext, _ change: @escaping @Sendable (WebhookStore, UUID) async throws -> WebhookEndpointRecord?
        ) async throws -> WebhookEndpointRecord {
            let id = try context.pathUUID("Webhook endpoint")
            guard let record = try await context.session.run({ try await change(WebhookStore(db: $0, secrets: secrets), id) }) else {
                throw Problem.notFound("Webhook endpoint \(id.lowercased)")
            }
            return record
        }
        routes.route(
            .post, "/v1/webhook-endpoints", "Add a webhook endpoint; its signing secret is shown once, in this answer", access: access,
            body: WebhookEndpointBody.self, answer: WebhookEndpointRecord.self
        ) { request, context in
            let body = try await request.decodeStrict(WebhookEndpointBody.self)
            var errors: [FieldError] = []
            var url: URL?
            var types: [String] = []
            do throws(Problem) { url = try WebhookRules.validate(url: body.url, allowLoopback: allowLoopback) } catch { errors += error.errors }
            do throws(Problem) { types = try WebhookRules.validate(eventTypes: body.eventTypes, known: known) } catch { errors += error.errors }
            let description = body.description ?? ""
            if description.count > 500 { errors.append(FieldError(field: "description", message: "must be at most 500 characters")) }
            guard errors.isEmpty, let url else { throw Problem.validation(errors) }
            let record = try await context.session.run {
                try await WebhookStore(db: $0, secrets: secrets).create(url: url.absoluteString, description: description, eventTypes: types)
            }
            return try Response.json(record, status: .created, headers: [.location: "/v1/webhook-endpoints/\(record.id)"])
        }
        routes.route(.get, "/v1/webhook-endpoints", "List webhook endpoints, newest first", access: access, answer: Page<WebhookEndpointRecord>.self) { request, context in
            let page = try PageRequest(query: request.queryDictionary)
            return try Response.json(try await context.session.run { try await WebhookStore(db: $0, secrets: secrets).list(page) })
        }
        routes.route(.get, "/v1/webhook-endpoints/{id}", "Get a webhook endpoint", access: access, answer: WebhookEndpointRecord.self) { _, context in
            try Response.json(try await endpoint(context) { try await $0.endpoint($1) })
        }
        routes.route(
            .delete, "/v1/webhook-endpoints/{id}", "Delete a webhook endpoint: nothing more is sent to it, and what it had queued is dead-lettered",
            access: access, answer: WebhookEndpointRecord.self
        ) { _, context in
            try Response.json(try await endpoint(context) { try await $0.delete($1) })
        }
        routes.route(
            .post, "/v1/webhook-endpoints/{id}/rotate", "A new signing secret, shown once; the previous one signs too for 24 hours", access: access,
            answer: WebhookEndpointRecord.self
        ) { _, context in
            try Response.json(try await endpoint(context) { try await $0.rotate($1) })
        }
        routes.route(
            .post, "/v1/webhook-endpoints/{id}/enable", "Turn a disabled endpoint back on (its queued deliveries resume)", access: access,
            answer: WebhookEndpointRecord.self
        ) { _, context in
            let record = try await endpoint(context) { try await $0.enable($1) }
            webhooks.wake(context.session.tenant)
            return try Response.json(record)
        }
        routes.route(
            .get, "/v1/webhook-endpoints/{id}/deliveries", "An endpoint's deliveries, newest first, each with its attempts (status codes, latency)",
            access: access, answer: Page<WebhookDeliveryRecord>.self
        ) { request, context in
            let id = try context.pathUUID("Webhook endpoint")
            let page = try PageRequest(query: request.queryDictionary)
            guard let deliveries = try await context.session.run({ try await WebhookStore(db: $0, secrets: secrets).deliveries(endpoint: id, page: page) }) else {
                throw Problem.notFound("Webhook endpoint \(id.lowercased)")
            }
            return try Response.json(deliveries)
        }
        routes.route(
            .post, "/v1/webhook-deliveries/{id}/retry", "Try a delivery once more, now (a dead-lettered one included)", access: access,
            answer: WebhookDeliveryRecord.self
        ) { _, context in
            let id = try context.pathUUID("Webhook delivery")
            let result = try await context.session.run { try await WebhookStore(db: $0, secrets: secrets).retry(id) }
            switch result {
            case .success(let record):
                webhooks.wake(context.session.tenant)
                return try Response.json(record, status: .accepted)
            case .failure(.notFound): throw Problem.notFound("Webhook delivery \(id.lowercased)")
            case .failure(.inFlight): throw Problem.conflict("delivery-in-flight", "This delivery is being attempted now; look again in a few seconds.")
            case .failure(.endpointNotEnabled):
                throw Problem.conflict("endpoint-not-enabled", "The delivery's endpoint is disabled or deleted: enable it first (POST /v1/webhook-endpoints/{id}/enable).")
            }
        }
    }
}
