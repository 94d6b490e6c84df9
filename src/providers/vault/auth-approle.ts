// AppRole auth: role_id from the spec (an identifier, not a secret) and secret_id from a
// Kubernetes Secret of the source namespace, re-read on every login so a rotated
// secret_id is picked up without restarting the operator.
import { DEFAULTS, type VaultAppRoleAuth } from '../../api/types.js';
import { loginAt, readCredential, type AuthContext, type Authenticator } from './auth.js';

export function appRoleAuthenticator(spec: VaultAppRoleAuth, ctx: AuthContext): Authenticator {
  const mount = spec.mount || DEFAULTS.appRoleMount;
  return {
    method: 'appRole',
    identity: `the AppRole of spec.vault.auth.appRole.roleId (auth/${mount})`,
    async login() {
      const secretId = await readCredential(ctx, spec.secretIdRef, 'AppRole secret_id');
      return loginAt(ctx, mount, { role_id: spec.roleId, secret_id: secretId }, [secretId]);
    },
  };
}
