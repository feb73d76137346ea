// Debian's libsecp256k1-dev 0.2: the core API and public-key recovery (Ethereum's ecrecover).
#include <secp256k1.h>
#include <secp256k1_recovery.h>
