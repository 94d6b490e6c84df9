"""Makes moto serve what AWS serves after UpdateSecretVersionStage moves AWSCURRENT.

AWS answers a GetSecretValue / BatchGetSecretValue without VersionId or VersionStage
with the version labelled AWSCURRENT. moto (up to at least 5.2.5) answers with a
"default version" that only PutSecretValue moves, so after a staged rotation
(PutSecretValue AWSPENDING, then UpdateSecretVersionStage AWSCURRENT) it keeps serving
the old value. This edits the installed moto in place, once (idempotent); the smoke test
test/integration/smoke/moto.test.ts checks the behaviour.
"""
import pathlib
import sys

MARK = "# secretsync testenv: AWSCURRENT moves the default version"
OLD = """            if move_to_version_id:
                stages = secret.versions[move_to_version_id]["version_stages"]
                if "AWSPREVIOUS" in stages:
                    stages.remove("AWSPREVIOUS")
"""
NEW = OLD + """                secret.set_default_version_id(move_to_version_id)  """ + MARK + "\n"

path = pathlib.Path(sys.argv[1])
text = path.read_text()
if MARK in text:
    sys.exit(0)
if text.count(OLD) != 1:
    sys.exit(f"moto-patch: {path} does not look like moto 5.2's secretsmanager/models.py; update hack/testenv/moto-patch.py")
path.write_text(text.replace(OLD, NEW))
print("moto-patch: patched", path, file=sys.stderr)
