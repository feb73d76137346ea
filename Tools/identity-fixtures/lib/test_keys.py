"""Deterministic test keys for the identity fixture generators (Tools/gen-identity-fixtures puts this folder on
PYTHONPATH). Keys are derived from public labels so every run mints the same artifacts without committing private
PEMs; they are test keys only. cryptography cannot seed RSA generation, so RSA primes come from a SHAKE-256 stream.
"""
import hashlib
import math

from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _stream(label):
    counter = 0
    while True:
        yield hashlib.shake_256(f"{label}/{counter}".encode()).digest(256)
        counter += 1


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]


def _probable_prime(n):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for base in SMALL_PRIMES[:40]:  # fixed bases: candidates are pseudo-random, not adversarial
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(stream, bits):
    while True:
        n = int.from_bytes(next(stream)[: bits // 8], "big") | (3 << (bits - 2)) | 1  # top two bits: |p*q| = 2*bits
        if _probable_prime(n) and math.gcd(n - 1, 65537) == 1:
            return n


def rsa_key(label, bits=2048):
    stream = _stream(label)
    p, q = _prime(stream, bits // 2), _prime(stream, bits // 2)
    assert p != q
    e, phi = 65537, (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
                                    rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


def ec_key(label, curve):
    order = {"P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
             "P-384": int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                          "581a0db248b0a77aecec196accc52973", 16)}[curve]
    scalar = int.from_bytes(hashlib.sha512(label.encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[curve])
