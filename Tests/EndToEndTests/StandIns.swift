import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NzilaCore

/// What every provider stand-in does alike.
enum StandIns {
    /// Posts a provider's event or callback as the provider would: to this machine at `port` (where the data plane
    /// listens), with `url`'s host as the Host header (how a tenant's address names the tenant), signed in `header`
    /// (`Nzila-Signature`, `Stripe-Signature`; nil: unsigned) with `secret` at `time`. The data plane's status and body.
    static func post(_ raw: Data, to url: URL, port: Int, header: String? = "Nzila-Signature", secret: String, at time: Date = Date()) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(url.path)")
        request.method = .POST
        request.headers.add(name: "Host", value: url.host ?? "")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let header {
            request.headers.add(name: header, value: WebhookSignature.header(secret: secret, timestamp: Int64(time.timeIntervalSince1970), body: raw))
        }
        request.body = .bytes(ByteBuffer(bytes: raw))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// A JSON answer (an object, or bytes already encoded).
    static func json(_ status: Int, _ object: Any) -> Response {
        let data = object as? Data ?? (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
