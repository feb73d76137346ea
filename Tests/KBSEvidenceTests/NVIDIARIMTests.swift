import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// RIM files verified on their own with `NVIDIARIM.verify`: XML-DSig through xmlsec and the signing chain.
struct NVIDIARIMTests {
    typealias F = NVIDIAFixtures

    static func anchors() throws -> [Certificate] { try Certificate.parseAll(try EvidenceFixtures.bytes(F.rimRoot)) }

    static func verify(_ name: String, at time: String = F.at) throws -> Result<NVIDIARIM, EvidenceError> {
        let xml = try EvidenceFixtures.bytes(F.path(name))
        let anchors = try anchors()
        do { return .success(try NVIDIARIM.verify(xml: xml, anchors: anchors, at: EvidenceFixtures.time(time), what: name)) } catch {
            return .failure(error)
        }
    }

    @Test func productionVBIOSRIM() throws {
        let rim = try Self.verify("nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag").get()
        #expect(rim.version == "96.00.5E.00.01")
        #expect(rim.product == "GH100")
        #expect(rim.activeMeasurements.count == 12)
        #expect(rim.signer == "HCC RIM L4 Signer")
        #expect(rim.measurements.contains { $0.alternatives.count == 4 })
        // Its signing leaf ended 2025-06-22.
        #expect(try Self.verify("nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag", at: "2025-07-01T00:00:00Z").failureReason == .expired)
    }

    @Test func driverRIM550() throws {
        let rim = try Self.verify("attestation-sdk-NV_GPU_DRIVER_GH100_550.144.03.xml", at: "2026-06-01T00:00:00Z").get()
        #expect(rim.version == "550.144.03")
        #expect(rim.activeMeasurements.count == 21)
        _ = try Self.verify("attestation-sdk-NV_GPU_DRIVER_GH100_550.144.03.xml").get()
    }

    @Test func genuineVBIOSRIMThatMismatchesVerifiesAlone() throws {
        let rim = try Self.verify("attestation-sdk-NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml").get()
        #expect(rim.version == "96.00.5E.00.01")
    }

    @Test func corruptedSignatureValue() throws {
        #expect(try Self.verify("attestation-sdk-incorrect_signature_driver_rim.xml").failureReason == .signature)
    }

    /// Edited measurements: the reference digest no longer matches.
    @Test func editedDriverRIM() throws {
        #expect(try Self.verify("attestation-sdk-NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml").failureReason == .signature)
    }

    /// The one-day signing certificate: expired after 2025-01-02; inside its day the digest still fails.
    @Test func expiredDriverRIM() throws {
        #expect(try Self.verify("attestation-sdk-NV_GPU_DRIVER_GH100_570.124.03_expired.xml").failureReason == .expired)
        #expect(try Self.verify("attestation-sdk-NV_GPU_DRIVER_GH100_570.124.03_expired.xml", at: "2025-01-01T12:00:00Z").failureReason == .signature)
    }

    /// The device root is not a RIM anchor.
    @Test func wrongAnchor() throws {
        let xml = try EvidenceFixtures.bytes(F.path("nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"))
        let anchors = try Certificate.parseAll(try EvidenceFixtures.bytes(F.deviceRoot))
        #expect(throws: EvidenceError.self) { try NVIDIARIM.verify(xml: xml, anchors: anchors, at: EvidenceFixtures.time(F.at)) }
    }

    /// Any change to a signed measurement breaks the signature; garbage and unsigned XML are malformed.
    @Test func tamperingAndGarbage() throws {
        let xml = try EvidenceFixtures.bytes(F.path("nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"))
        let anchors = try Self.anchors()
        let time = EvidenceFixtures.time(F.at)
        var text = String(decoding: xml, as: UTF8.self)
        text = text.replacingOccurrences(of: "c3f65ef79a19c029868cd7ce54b10e44", with: "c3f65ef79a19c029868cd7ce54b10e45")
        do {
            _ = try NVIDIARIM.verify(xml: Array(text.utf8), anchors: anchors, at: time)
            Issue.record("a tampered RIM verified")
        } catch { #expect(error.reason == .signature) }
        for garbage in [[], Array("not xml".utf8), Array("<SoftwareIdentity/>".utf8), Array("<a><b/></a>".utf8), Array(xml.prefix(5000))] {
            do {
                _ = try NVIDIARIM.verify(xml: garbage, anchors: anchors, at: time)
                Issue.record("garbage verified")
            } catch { #expect(error.reason == .malformed) }
        }
    }
}

extension Result where Failure == EvidenceError {
    var failureReason: EvidenceErrorReason? {
        if case .failure(let error) = self { return error.reason }
        return nil
    }
}
