// The PKCS#11 2.40 types, constants and function list from p11-kit (Debian's libp11-kit-dev). Only the header is
// used: the module itself (SoftHSM2 or a real HSM's library) is dlopened at run time, so nothing links against it.
// p11-kit's default CRYPTOKI_COMPAT mode gives the standard names (CK_MECHANISM, pParameter, ulValueLen, ...).
#include <p11-kit/pkcs11.h>
