/// Whether `given` holds the same bytes as `expected`, in a time that depends only on the length of `expected`: never on
/// where the two differ, nor on the length of `given`. Where a secret's length is worth hiding (a bearer token), pass
/// the secret as `expected`.
///
/// Every comparison of a secret with a guess goes through here, so that none of them can drift into an early return.
package func constantTimeEqual(_ given: some Collection<UInt8>, _ expected: some Collection<UInt8>) -> Bool {
    // The length goes into the difference instead of an early return, so a guess of the wrong length takes as long as
    // any other and does not tell the secret's length.
    var difference: UInt8 = given.count == expected.count ? 0 : 1
    var guess = given.makeIterator()
    for byte in expected {
        difference |= byte ^ (guess.next() ?? 0)
    }
    return difference == 0
}
