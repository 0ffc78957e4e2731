import NzilaCore
import Testing

@Suite("Client address of a per-address rate limit")
struct ClientAddressTests {
    let proxies = ClientAddress.networks("10.0.0.0/8, fd00::/8, 192.168.1.7")

    @Test("the peer, unless it is a trusted proxy; then the right-most untrusted hop of X-Forwarded-For")
    func forwarded() {
        #expect(ClientAddress.key(peer: "203.0.113.9", forwardedFor: "198.51.100.1", trusted: proxies) == "203.0.113.9")
        #expect(ClientAddress.key(peer: "10.1.2.3", forwardedFor: "198.51.100.1", trusted: proxies) == "198.51.100.1")
        // A client cannot forge its way past: the hop the proxy itself appended is the one used.
        #expect(ClientAddress.key(peer: "10.1.2.3", forwardedFor: "1.2.3.4, 198.51.100.1", trusted: proxies) == "198.51.100.1")
        #expect(ClientAddress.key(peer: "10.1.2.3", forwardedFor: "198.51.100.1, 192.168.1.7", trusted: proxies) == "198.51.100.1")
        #expect(ClientAddress.key(peer: "192.168.1.8", forwardedFor: "198.51.100.1", trusted: proxies) == "192.168.1.8")
        #expect(ClientAddress.key(peer: "10.1.2.3", forwardedFor: nil, trusted: proxies) == "10.1.2.3")
        #expect(ClientAddress.key(peer: "10.1.2.3", forwardedFor: "not an address", trusted: proxies) == "10.1.2.3")
        #expect(ClientAddress.key(peer: nil, forwardedFor: "198.51.100.1", trusted: proxies) == "unknown")
    }

    @Test("IPv6 clients are keyed by their /64; IPv4-mapped addresses as IPv4")
    func ipv6() {
        let a = ClientAddress.key(peer: "2001:db8:1:2::10", forwardedFor: nil, trusted: [])
        #expect(a == ClientAddress.key(peer: "2001:db8:1:2:ffff::1", forwardedFor: nil, trusted: []))
        #expect(a != ClientAddress.key(peer: "2001:db8:1:3::10", forwardedFor: nil, trusted: []))
        #expect(ClientAddress.key(peer: "::ffff:198.51.100.1", forwardedFor: nil, trusted: []) == "198.51.100.1")
        #expect(ClientAddress.key(peer: "fd12::1", forwardedFor: "2001:db8::5", trusted: proxies) == a.replacingOccurrences(of: "00010002", with: "00000000"))
    }

    @Test("networks: CIDR prefixes, single addresses, and nonsense left out")
    func networks() {
        #expect(ClientAddress.networks("10.0.0.0/8,bogus,1.2.3.4/33, ::1").count == 2)
        let net = ClientAddress.Network("172.16.0.0/12")
        #expect(net != nil)
        #expect(ClientAddress.key(peer: "172.31.255.1", forwardedFor: "8.8.8.8", trusted: [net!]) == "8.8.8.8")
        #expect(ClientAddress.key(peer: "172.32.0.1", forwardedFor: "8.8.8.8", trusted: [net!]) == "172.32.0.1")
    }
}
