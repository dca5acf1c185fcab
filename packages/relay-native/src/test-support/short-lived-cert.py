"""Issues a P-256 leaf from the test CA that expires in a few seconds: prints JSON {cert, key}.

usage: short-lived-cert.py CA_CERT CA_KEY SPIFFE_ID SECONDS [ISSUER_SECONDS]
With ISSUER_SECONDS, the leaf is issued by an intermediate CA (from the test CA) that expires then,
and `cert` is the leaf followed by that intermediate.
(openssl's own commands take whole days; tests of expiry need seconds)
"""
import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ca_cert_path, ca_key_path, spiffe_id, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
with open(ca_cert_path, "rb") as f:
    ca_cert = x509.load_pem_x509_certificate(f.read())
with open(ca_key_path, "rb") as f:
    ca_key = serialization.load_pem_private_key(f.read(), password=None)

now = datetime.datetime.now(datetime.timezone.utc)
chain = []
if len(sys.argv) > 5:
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    issuer = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchyard-test intermediate")]))
        .issuer_name(ca_cert.subject)
        .public_key(issuer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(seconds=float(sys.argv[5])))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_cert, ca_key, chain = issuer, issuer_key, [issuer]

key = ec.generate_private_key(ec.SECP256R1())
cert = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "switchyard-test")]))
    .issuer_name(ca_cert.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=1))
    .not_valid_after(now + datetime.timedelta(seconds=seconds))
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id)]), critical=False)
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    .sign(ca_key, hashes.SHA256())
)
print(json.dumps({
    "cert": "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in [cert, *chain]),
    "key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
}))
