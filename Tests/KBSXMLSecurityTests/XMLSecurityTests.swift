import Testing

@testable import KBSXMLSecurity

/// The parser's safety and the tree's reading; signatures are checked by their users' suites (the SAML attacks in
/// `KBSIdentityTests`, the RIMs in `KBSEvidenceTests`).
@Suite struct XMLSecurityTests {
    struct Refused: Error, Equatable {}

    static func parse<T>(_ xml: String, _ body: (XMLDocument?) throws(Refused) -> T) throws(Refused) -> T {
        try XMLSecurity.withLock(unavailable: { _ in Refused() }, { () throws(Refused) -> T in try body(XMLDocument(Array(xml.utf8))) })
    }

    @Test("external entities are not fetched, and a DTD is visible to the caller, who refuses it")
    func noExternalEntities() throws {
        let external = #"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><x>&e;</x>"#
        let (dtd, text) = try Self.parse(external) { document throws(Refused) in (document?.hasDTD, document?.root?.text) }
        #expect(dtd == true)
        #expect(text == "", "the file was not read")
        let inline = #"<!DOCTYPE x [<!ENTITY e "v">]><x>&e;</x>"#
        #expect(try Self.parse(inline) { $0?.hasDTD } == true)
        #expect(try Self.parse("<x>ok</x>") { $0?.hasDTD } == false)
    }

    @Test("malformed or empty input gives no document")
    func malformed() throws {
        for xml in ["", "<x>", "<x></y>", "not xml"] {
            #expect(try Self.parse(xml) { $0 == nil }, "\(xml)")
        }
    }

    @Test("the tree: child elements in order, namespaces, plain and namespaced attributes, text across comments")
    func tree() throws {
        let xml = #"<r xmlns="urn:a" xmlns:h="urn:h" id="1" h:Hash0="ab"><c>one<!-- cut -->two</c><!-- x --><d><e/></d></r>"#
        try Self.parse(xml) { document throws(Refused) in
            guard let root = document?.root else { throw Refused() }
            #expect(root.is("r", in: "urn:a"))
            #expect(root.elements.map(\.localName) == ["c", "d"])
            #expect(root.descendants.map(\.localName) == ["c", "d", "e"])
            #expect(root.elements("d", in: "urn:a").count == 1)
            #expect(root.elements[0].text == "onetwo")
            #expect(root.attribute("id") == "1")
            #expect(root.attribute("Hash0") == nil, "a namespaced attribute is not a plain one")
            #expect(root.attribute(anyNamespace: "Hash0") == "ab")
            #expect(root.elements.contains(root.descendants[0]))
            #expect(!root.elements.contains(root.descendants[2]))
            #expect(root.registerID(attribute: "id"))
            #expect(!root.registerID(attribute: "missing"))
        }
    }

    @Test("the lock hands the caller's own error back")
    func callerErrors() {
        #expect(throws: Refused()) { try Self.parse("<x/>") { _ throws(Refused) in throw Refused() } }
    }
}
