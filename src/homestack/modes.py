"""The permission modes homestack gives what it makes: the whole policy in one place.

Folders under DATA/ and SECRETS_DIR, secret files, and the generated configs that hold a
secret each get one of these (docs/security.md explains why each is what it is; `doctor`
checks them). Files without a secret are written 0644 (fsutil.write_atomic's default).
"""

#: DATA/ itself: every local user may pass through it to a service's folder
DATA_MODE = 0o755
#: DATA/{service} and DATA/config/{service}: the service's user and group only (app
#: databases, keys); no other local user reads them
SERVICE_MODE = 0o750
#: DATA/backups/{service} (restic's repository) and SECRETS_DIR: the owner only
PRIVATE_FOLDER_MODE = 0o700
#: a secret, or a generated file that holds one: the owner only
PRIVATE_MODE = 0o600
#: a secret its container reads as a user other than its owner: the group reads it, too
SHARED_MODE = 0o440
