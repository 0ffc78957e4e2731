import Crypto
import Foundation
@testable import NzilaCore
import Testing

@Suite("Local master key provider")
struct LocalKeyProviderTests {
    @Test("a data key wraps and unwraps; the previous master still unwraps and rewrap moves it to the current one; a bad key is named")
    func wrapAndRotate() async throws {
        let old = SecretBox.generateHex(), new = SecretBox.generateHex()
        let dataKey = SymmetricKey(size: .bits256)
        let before = LocalKeyProvider(current: .hex(old))
        let wrapped = try await before.wrap(dataKey)
        #expect(try await before.unwrap(wrapped) == dataKey)
        // The format earlier builds stored: AES-GCM under the master, as SecretBox seals.
        #expect(try SecretBox(hex: old).open(wrapped) == dataKey.withUnsafeBytes { Data($0) })

        let during = LocalKeyProvider(current: .hex(new), previous: .hex(old))
        #expect(try await during.unwrap(wrapped) == dataKey)
        let moved = try await during.rewrap(wrapped)
        let after = LocalKeyProvider(current: .hex(new))
        #expect(try await after.unwrap(moved) == dataKey)
        await #expect(throws: KeyProviderFailure.self) { _ = try await after.unwrap(wrapped) }
        await #expect(throws: KeyProviderFailure.self) { _ = try await LocalKeyProvider(current: .hex("abc")).wrap(dataKey) }
        #expect(try await before.platformKeyCandidates() == [SymmetricKey(data: Data(hex: old)!)], "a local deployment's platform key starts as its master")
        #expect(try await during.platformKeyCandidates() == [SymmetricKey(data: Data(hex: old)!), SymmetricKey(data: Data(hex: new)!)],
                "mid-rotation, the previous master (which sealed what there is) comes first")
        #expect(!before.name.contains(old))
    }

    @Test("a master key file is read at each use: a missing file is named, a replaced one is used from the next wrap")
    func file() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nzila-master-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("master.key").path
        let provider = LocalKeyProvider(current: .file(path))
        do {
            _ = try await provider.wrap(SymmetricKey(size: .bits256))
            Issue.record("wrapped without a key file")
        } catch let failure as KeyProviderFailure {
            #expect(failure.description.contains("cannot be read"))
        }
        let first = SecretBox.generateHex(), second = SecretBox.generateHex()
        try Data((first + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let dataKey = SymmetricKey(size: .bits256)
        let wrapped = try await provider.wrap(dataKey)
        try Data(second.utf8).write(to: URL(fileURLWithPath: path))
        await #expect(throws: KeyProviderFailure.self) { _ = try await provider.unwrap(wrapped) }
        #expect(try await LocalKeyProvider(current: .file(path), previous: .hex(first)).unwrap(wrapped) == dataKey)
    }
}
