import Foundation
import Logging
import NzilaDatabase
import Testing

/// What an operator reads when a server cannot reach its database, against the real test stack.
@Suite("Start-up database probe")
struct StartupProbeTests {
    /// The timeout is generous where the server does answer: on a loaded 2-core machine the whole suite
    /// shares the event loops, and a connection plus SCRAM can take seconds; the time-out itself is
    /// tested on its own, against a port that never answers.
    func message(_ url: DatabaseURL, setting: String = "NZILA_DIRECT_URL", timeout: Double = 120) async -> String? {
        do {
            try await StartupProbe.check(url, setting: setting, timeoutSeconds: timeout, logger: Logger(label: "probe-test"))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a reachable database passes; a stopped server, a wrong password, a missing database and a missing pool group are each named with their fix, never the password")
    func failures() async throws {
        let harness = try await Harness.get()
        let direct = await message(harness.directURL)
        #expect(direct == nil, "\(direct ?? "")")
        let bouncer = await message(harness.bouncerURL.with(database: "nzila_g0"), setting: "NZILA_PGBOUNCER_URL")
        #expect(bouncer == nil, "\(bouncer ?? "")")

        var stopped = harness.directURL
        stopped.port = 1
        let refused = try #require(await message(stopped))
        #expect(refused.contains("NZILA_DIRECT_URL") && refused.contains("nothing is listening at 127.0.0.1:1"), "\(refused)")

        var wrong = harness.directURL
        wrong.password = "not-the-password"
        let denied = try #require(await message(wrong))
        #expect(denied.contains("password authentication failed for user \(wrong.user)"), "\(denied)")
        #expect(!denied.contains("not-the-password") && !denied.contains(harness.directURL.password ?? "\u{0}"))

        let missing = try #require(await message(harness.directURL.with(database: "no_such_db")))
        #expect(missing.contains("database no_such_db does not exist"), "\(missing)")

        let group = try #require(await message(harness.bouncerURL.with(database: "nzila_g99"), setting: "NZILA_PGBOUNCER_URL"))
        #expect(group.contains("NZILA_PGBOUNCER_URL") && group.contains("nzila_g99"), "\(group)")
    }

    @Test("a port that accepts but never answers is reported after the timeout, naming the setting and not the password")
    func silent() async throws {
        // A listening socket nobody accepts from: the kernel completes the handshake, then nothing.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let url = try #require(DatabaseURL("postgres://nzila_owner:secret@127.0.0.1:\(port)/nzila"))
        let text = try #require(await message(url, timeout: 0.5))
        #expect(text.hasPrefix("NZILA_DIRECT_URL (postgres://nzila_owner@127.0.0.1:\(port)/nzila) did not answer within"), "\(text)")
        #expect(!text.contains("secret"))
    }
}
