"""Verify a vouch attestation note with securesystemslib, independently of vouch.

usage: dsse_verify.py NOTE PUBKEY COMMIT REF
  NOTE    the note's bytes (`git notes --ref refs/notes/vouch show COMMIT > note`): JSON Lines,
          one DSSE envelope per line
  PUBKEY  the verifier's OpenSSH public key (ssh-ed25519 or ecdsa-sha2-nistp256)
  COMMIT  the commit id every statement's subject must name (digest gitCommit)
  REF     the ref the subject must name

Exit 0 when every envelope verifies with the key (keyid = the key's SHA256 fingerprint, as
ssh-keygen -l prints it) and names COMMIT on REF; 1 with the reason otherwise.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def fingerprint(openssh_line: str) -> str:
    blob = base64.b64decode(openssh_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def main() -> int:
    note_path, key_path, commit, ref = sys.argv[1:5]
    line = open(key_path, encoding="utf-8").read().strip()
    key = SSlibKey.from_crypto(load_ssh_public_key(line.encode()), keyid=fingerprint(line))
    envelopes = [l for l in open(note_path, encoding="utf-8").read().splitlines() if l.strip()]
    if not envelopes:
        print("no envelope")
        return 1
    for text in envelopes:
        envelope = Envelope.from_dict(json.loads(text))
        try:
            envelope.verify([key], 1)
        except Exception as e:  # securesystemslib raises VerificationError
            print(f"signature: {e}")
            return 1
        statement = json.loads(envelope.payload)
        if envelope.payload_type != "application/vnd.in-toto+json":
            print(f"payload type {envelope.payload_type}")
            return 1
        subjects = statement["subject"]
        if len(subjects) != 1 or subjects[0]["digest"].get("gitCommit") != commit or subjects[0]["name"] != ref:
            print(f"subject {subjects} is not {commit} on {ref}")
            return 1
    print(f"ok: {len(envelopes)} envelopes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
