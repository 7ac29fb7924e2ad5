"""The one door to cryptographic primitives (cryptography's hazmat layer).

Nothing outside this package imports ``cryptography.hazmat`` or ``fastecdsa``. Submodules:

* :mod:`epass._crypto.symmetric` - 3DES (explicit k1|k2|k1), AES, retail MAC
  (ISO/IEC 9797-1 MAC algorithm 3), AES-CMAC, the Doc 9303 KDF, padding.
* :mod:`epass._crypto.ec` - elliptic curves: named and explicit domain parameters, point
  checks, scalar multiplication, ECDH, ECDSA on curves the backend lacks (fastecdsa).
* :mod:`epass._crypto.signatures` - public-key loading and signature
  verification for passive authentication (RSA PKCS#1 v1.5, RSA-PSS, ECDSA).
* :mod:`epass._crypto.dh` - finite-field DH groups (PACE, Chip Authentication).
* :mod:`epass._crypto.rsa_raw` - the RSA public operation s^e mod n with key
  checks, for ISO/IEC 9796-2 message recovery (Active Authentication).
"""
