// TLS certificate auth: the client certificate and its key (Secrets of the source
// namespace) are the HTTP client's TLS identity (index.ts hands them to client.ts), so
// Vault sees the certificate in the handshake of the login at auth/<mount>/login and
// answers with the token of the matching certificate role. loginAt asks the client to read
// the Secrets again first, so a renewed certificate is used from the next login on.
import { DEFAULTS, type VaultCertAuth } from '../../api/types.js';
import { loginAt, type AuthContext, type Authenticator } from './auth.js';

export function certAuthenticator(spec: VaultCertAuth, ctx: AuthContext): Authenticator {
  const mount = spec.mount || DEFAULTS.certAuthMount;
  return {
    method: 'cert',
    identity: `the client certificate in Secret "${spec.clientCert.name}" (TLS certificate auth at auth/${mount})`,
    login: () => loginAt(ctx, mount, {}, []),
  };
}
