import Glibc
import KBSClaims

/// Which hosts a fetch may reach: public addresses only. A DID or an issuer URL is attacker-chosen, and without
/// this an attacker's `did:web:169.254.169.254` reads the cloud metadata service (SSRF).
enum AddressPolicy {
    /// Refuses IP literals outside public unicast space, and names that resolve to any such address.
    static func check(host: String) throws(IdentityError) {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let v4 = ipv4(bare) {
            guard isPublic(v4: v4) else { throw IdentityError(.fetch, "\(host) is not a public address") }
            return
        }
        if let v6 = ipv6(bare) {
            guard isPublic(v6: v6) else { throw IdentityError(.fetch, "\(host) is not a public address") }
            return
        }
        guard !bare.isEmpty, bare.utf8.count <= 253,
            bare.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
        else { throw IdentityError(.fetch, "`\(host.prefix(80))` is not a host name") }
        for address in try resolve(bare) {
            switch address {
            case .v4(let bytes): guard isPublic(v4: bytes) else { throw IdentityError(.fetch, "\(host) resolves to a non-public address") }
            case .v6(let bytes): guard isPublic(v6: bytes) else { throw IdentityError(.fetch, "\(host) resolves to a non-public address") }
            }
        }
    }

    enum Address {
        case v4([UInt8])
        case v6([UInt8])
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address.s_addr) { Array($0) }
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: address) { Array($0) }
    }

    /// Not 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15,
    /// 198.51.100/24, 203.0.113/24, 224/4 or 240/4.
    static func isPublic(v4 b: [UInt8]) -> Bool {
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _), (169, 254, _), (192, 168, _), (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113):
            return false
        case (100, 64...127, _), (172, 16...31, _), (198, 18...19, _), (224...255, _, _):
            return false
        default:
            return true
        }
    }

    /// Global unicast (2000::/3) only, minus documentation space; IPv4-mapped addresses are judged as IPv4.
    static func isPublic(v6 b: [UInt8]) -> Bool {
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF { return isPublic(v4: Array(b[12..<16])) }
        guard b[0] & 0xE0 == 0x20 else { return false }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return false }  // 2001:db8::/32
        return true
    }

    static func resolve(_ host: String) throws(IdentityError) -> [Address] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "443", &hints, &list) == 0, let first = list else {
            throw IdentityError(.fetch, "\(host) does not resolve")
        }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == AF_INET, let raw = entry.pointee.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                addresses.append(.v4(withUnsafeBytes(of: address) { Array($0) }))
            } else if entry.pointee.ai_family == AF_INET6, let raw = entry.pointee.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                addresses.append(.v6(withUnsafeBytes(of: address) { Array($0) }))
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw IdentityError(.fetch, "\(host) has no address") }
        return addresses
    }
}
