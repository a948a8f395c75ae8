"""DingTalk's callback encryption, written independently with Python's `cryptography`.

`encrypt KEY OWNER MESSAGE` prints the base64 ciphertext; `decrypt KEY OWNER CIPHERTEXT`
prints the message, after checking the padding (to 32 bytes), the length prefix and the
owner key. Used by tests/tests/callback_python.rs to check dingscope both ways.
"""
import base64
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def key_of(encoding_aes_key):
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def encrypt(encoding_aes_key, owner, message):
    key = key_of(encoding_aes_key)
    body = message.encode("utf-8")
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + owner.encode("utf-8")
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode("ascii")


def decrypt(encoding_aes_key, owner, ciphertext):
    key = key_of(encoding_aes_key)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(ciphertext)) + dec.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad, "padding"
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message = plain[20 : 20 + length]
    assert plain[20 + length :] == owner.encode("utf-8"), "owner key"
    return message.decode("utf-8")


if __name__ == "__main__":
    mode, key, owner, text = sys.argv[1:5]
    print(encrypt(key, owner, text) if mode == "encrypt" else decrypt(key, owner, text))
