// The one source of truth for the CRD schemas of secretsync.io/v1alpha1. `npm run crds`
// renders crds/*.yaml from here; a unit test fails when the files drift. What a schema
// can reject (shapes, enums, exactly-one-of, names) it rejects here; the controller
// rejects the rest with Ready=False (see validate.ts).
import { arr, bool, exactlyOne, int, map, obj, str, type JSONSchemaProps } from './openapi.js';
import { MAX_TEMPLATE_CHARS, MAX_TEMPLATE_KEYS } from './template.js';
import { MINTING_TYPES } from './types.js';

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A Secret data key that is also a safe file name under /run/secrets/<sync>/. */
const FILE_KEY = '^[-._a-zA-Z0-9]+$';
// Whole milliseconds only: a fraction of a millisecond is refused (its ticks would fall between
// the clock's, one extra reconcile each); fractions of s, m and h are fine.
const DURATION = '^([0-9]+(ms|(\\.[0-9]+)?(s|m|h)))+$';

const secretKeySelector = (what: string) =>
  obj(
    `A key of a Secret holding ${what}. The Secret is read in the source's own namespace (for a ClusterSecretSource: the operator's namespace); a SecretSync can never make the operator read a Secret of another namespace.`,
    {
      name: str('Name of the Secret.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
      key: str('Key within the Secret.', { pattern: FILE_KEY, maxLength: 253 }),
      namespace: str(
        "Namespace of the Secret. Optional; when set it must be the source's own namespace (the operator's namespace for a ClusterSecretSource), anything else is refused with reason Forbidden.",
        { pattern: DNS_LABEL, maxLength: 63 },
      ),
    },
    { required: ['name', 'key'] },
  );

const vaultAuth = obj(
  'How the operator authenticates to Vault. Exactly one method. The operator logs in once per source per token lifetime, renews its token and revokes it on shutdown.',
  {
    token: obj('A static Vault token read from a Secret. Never revoked by the operator.', {
      secretRef: secretKeySelector('the Vault token'),
    }, { required: ['secretRef'] }),
    kubernetes: obj(
      "Vault's Kubernetes auth: the operator requests a short-lived token for the service account (TokenRequest API) and logs in with it at auth/<mount>/login.",
      {
        mount: str('Path where the Kubernetes auth method is mounted.', { default: 'kubernetes', minLength: 1 }),
        role: str('Vault role to log in as.', { minLength: 1 }),
        serviceAccountRef: obj(
          "Service account whose token is presented to Vault. Resolved in the source's own namespace.",
          {
            name: str('Name of the service account.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
            namespace: str("Namespace of the service account; when set it must be the source's own namespace.", {
              pattern: DNS_LABEL,
              maxLength: 63,
            }),
          },
          { required: ['name'] },
        ),
        audiences: arr(
          'Audiences of the requested service-account token; the Vault role\'s `audience` must be one of them. Default: ["vault"], so the token is good for Vault login only and not against the API server. An audience of the API server itself (its service-account issuer or --api-audiences, https://kubernetes.default.svc, kubernetes) is refused: such a token would authenticate to the API server.',
          str('An audience.'),
          { maxItems: 16 },
        ),
      },
      { required: ['role', 'serviceAccountRef'] },
    ),
    appRole: obj(
      "Vault's AppRole auth: role id plus a secret id read from a Secret, logged in at auth/<mount>/login.",
      {
        mount: str('Path where the AppRole auth method is mounted.', { default: 'approle', minLength: 1 }),
        roleId: str('The role id (not a secret).', { minLength: 1 }),
        secretIdRef: secretKeySelector('the AppRole secret id'),
      },
      { required: ['roleId', 'secretIdRef'] },
    ),
    jwt: obj(
      "Vault's JWT/OIDC auth: a JWT, from a Secret (secretRef) or a short-lived token of a service account (kubernetesServiceAccountToken, TokenRequest API), logged in at auth/<mount>/login with the role. Exactly one of secretRef and kubernetesServiceAccountToken. A JWT whose audience is the API server's is refused either way.",
      {
        mount: str('Path where the JWT/OIDC auth method is mounted.', { default: 'jwt', minLength: 1, maxLength: 256 }),
        role: str('Vault role of the JWT auth method to log in as.', { minLength: 1, maxLength: 512 }),
        secretRef: secretKeySelector('a JWT, re-read at every login'),
        kubernetesServiceAccountToken: obj(
          "A short-lived token of a service account of the source's own namespace (TokenRequest API); the JWT auth method verifies it with the cluster's service-account issuer (its JWKS or public keys).",
          {
            serviceAccountRef: obj(
              "Service account whose token is presented to Vault. Resolved in the source's own namespace.",
              {
                name: str('Name of the service account.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
                namespace: str("Namespace of the service account; when set it must be the source's own namespace.", { pattern: DNS_LABEL, maxLength: 63 }),
              },
              { required: ['name'] },
            ),
            audiences: arr(
              'Audiences of the requested token; the Vault role\'s `bound_audiences` must include one. Default: ["vault"]. An audience of the API server itself is refused: such a token would authenticate to the API server.',
              str('An audience.', { minLength: 1, maxLength: 512 }),
              { maxItems: 16 },
            ),
          },
          { required: ['serviceAccountRef'] },
        ),
      },
      { required: ['role'], rules: [exactlyOne(['secretRef', 'kubernetesServiceAccountToken'], 'JWT source')] },
    ),
    cert: obj(
      "Vault's TLS certificate auth: the client certificate (clientCert) and its private key (secretRef), both read from Secrets, are presented in the TLS handshake of every connection to Vault, and the login at auth/<mount>/login names the certificate's role. Needs an https address. Not together with spec.vault.tls (this certificate is the one presented).",
      {
        mount: str('Path where the TLS certificate auth method is mounted.', { default: 'cert', minLength: 1, maxLength: 256 }),
        clientCert: secretKeySelector('the PEM client certificate (chain)'),
        secretRef: secretKeySelector('the PEM private key of clientCert'),
      },
      { required: ['clientCert', 'secretRef'] },
    ),
  },
  { rules: [exactlyOne(['token', 'kubernetes', 'appRole', 'jwt', 'cert'], 'auth method')] },
);

const vaultProvider = obj(
  'HashiCorp Vault or OpenBao, read through the KV secrets engine.',
  {
    address: str('Vault address, e.g. https://vault.example:8200.', { pattern: '^https?://.+', maxLength: 2048 }),
    namespace: str('Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. Optional.', { maxLength: 512 }),
    caBundle: str('PEM CA certificates to verify the Vault server. Optional; default: the system roots.', {
      maxLength: 65536,
    }),
    tls: obj(
      "A client certificate for Vault's listener, for servers that require mutual TLS (tls_require_and_verify_client_cert). Both are read from Secrets of the source's own namespace. Needs an https address; with auth.cert, that certificate is presented instead (set one of them).",
      {
        certSecretRef: secretKeySelector('the PEM client certificate (chain)'),
        keySecretRef: secretKeySelector('the PEM private key of the client certificate'),
      },
      { required: ['certSecretRef', 'keySecretRef'] },
    ),
    kv: obj('The KV secrets engine to read.', {
      mount: str('Mount path of the KV engine.', { default: 'secret', minLength: 1 }),
      version: int('KV engine version: 1 (unversioned) or 2 (versioned).', { enum: [1, 2], default: 2 }),
    }),
    auth: vaultAuth,
  },
  { required: ['address', 'auth'] },
);

const awsAuth = obj(
  "Whose AWS identity the operator uses for this source. Exactly one. A SecretSource must name credentials of its own (secretRef or webIdentity): the operator's own identity serves only a ClusterSecretSource that says operatorIdentity.",
  {
    secretRef: obj(
      'Static keys: access key id and secret access key, each a key of a Secret.',
      {
        accessKeyIdRef: secretKeySelector('the AWS access key id'),
        secretAccessKeyRef: secretKeySelector('the AWS secret access key'),
        sessionTokenSecretRef: secretKeySelector('the AWS session token, for temporary keys (an STS session): sent with the access key id and secret access key'),
      },
      { required: ['accessKeyIdRef', 'secretAccessKeyRef'] },
    ),
    webIdentity: obj(
      "IRSA-style: the operator requests a short-lived token of this service account (TokenRequest, audience sts.amazonaws.com) and exchanges it through STS AssumeRoleWithWebIdentity for roleArn (required), again before the role's credentials expire. The role's trust policy decides which service accounts may assume it.",
      {
        serviceAccountRef: obj(
          "Service account whose token is exchanged. Resolved in the source's own namespace (for a ClusterSecretSource: the operator's namespace).",
          { name: str('Name of the service account.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }) },
          { required: ['name'] },
        ),
      },
      { required: ['serviceAccountRef'] },
    ),
    // An empty object: no `properties: {}`, which the API server drops on storing (a CRD
    // that differs from its file makes Helm's server-side apply conflict).
    operatorIdentity: {
      type: 'object',
      description:
        "ClusterSecretSource only: the operator's own AWS identity (its default credential chain: IRSA, EKS pod identity, environment), said explicitly; with roleArn that role is assumed from it. Write it as operatorIdentity: {}.",
    },
  },
  { rules: [exactlyOne(['secretRef', 'webIdentity', 'operatorIdentity'], 'AWS auth method')] },
);

const awsProvider = obj(
  'AWS Secrets Manager. Reads are batched (BatchGetSecretValue, up to 20 secrets a call) and identical references are fetched once.',
  {
    region: str('AWS region, e.g. eu-west-1.', { pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', maxLength: 32 }),
    endpoint: str('Endpoint override, e.g. a VPC endpoint. Optional.', { pattern: '^https?://.+', maxLength: 2048 }),
    roleArn: str('IAM role to assume through STS: with secretRef or operatorIdentity assumed with those credentials (optional), with webIdentity the role the token is exchanged for (required).', {
      pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$',
      maxLength: 2048,
    }),
    externalId: str("ExternalId sent with STS AssumeRole of roleArn, when the role's trust policy requires one (sts:ExternalId). Needs roleArn; not with auth.webIdentity (AssumeRoleWithWebIdentity takes none).", {
      minLength: 2,
      maxLength: 1224,
      pattern: '^[\\w+=,.@:/-]+$',
    }),
    sessionTags: arr(
      'Session tags passed with STS AssumeRole of roleArn (the role\'s trust policy must allow sts:TagSession). Needs roleArn; not with auth.webIdentity.',
      obj(
        'One session tag.',
        {
          key: str('Tag key.', { minLength: 1, maxLength: 128 }),
          value: str('Tag value.', { maxLength: 256 }),
        },
        { required: ['key', 'value'] },
      ),
      { maxItems: 50, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'] },
    ),
    auth: awsAuth,
  },
  {
    required: ['region', 'auth'],
    rules: [
      {
        rule: '(!has(self.externalId) && !has(self.sessionTags)) || has(self.roleArn)',
        message: 'externalId and sessionTags are sent with STS AssumeRole of roleArn: set roleArn, or remove them',
      },
      {
        rule: '!has(self.auth) || !has(self.auth.webIdentity) || (!has(self.externalId) && !has(self.sessionTags))',
        message: 'externalId and sessionTags go with STS AssumeRole; auth.webIdentity uses AssumeRoleWithWebIdentity, which takes neither: remove them (put conditions on the token in the trust policy instead)',
      },
      {
        rule: '!has(self.auth) || !has(self.auth.webIdentity) || has(self.roleArn)',
        message: "auth.webIdentity needs roleArn: the IAM role the service account's token is exchanged for (its trust policy names the cluster's OIDC issuer)",
      },
    ],
  },
);

const providers = { vault: vaultProvider, aws: awsProvider };
const providerNames = Object.keys(providers);

const conditions = arr(
  'Conditions following the Kubernetes API conventions. Messages say what to fix and never contain a secret value.',
  obj(
    'One condition.',
    {
      type: str('Condition type, e.g. Ready or Synced.', { maxLength: 316 }),
      status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
      reason: str('One-word CamelCase reason, e.g. Synced, SourceNotFound, KeyNotFound.', { maxLength: 1024 }),
      message: str('Human-readable explanation: what happened and what to fix.', { maxLength: 32768 }),
      observedGeneration: int('The .metadata.generation this condition was set for.', { minimum: 0 }),
      lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
    },
    { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] },
  ),
  { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

const sourceStatus = obj('Observed state of the source.', {
  conditions,
  observedGeneration: int('The .metadata.generation last processed.', { minimum: 0 }),
});

export const secretSourceSchema: JSONSchemaProps = obj(
  'SecretSource says how to reach one secret manager and authenticate to it. SecretSyncs in the same namespace read through it. Secret references resolve in this namespace only.',
  {
    apiVersion: str('APIVersion of this object.'),
    kind: str('Kind of this object.'),
    metadata: { type: 'object' },
    spec: obj('Exactly one provider block.', { ...providers }, {
      rules: [
        exactlyOne(providerNames, 'provider block'),
        {
          rule: '!has(self.aws) || !has(self.aws.auth) || !has(self.aws.auth.operatorIdentity)',
          message:
            "aws.auth.operatorIdentity is for ClusterSecretSources only: a SecretSource uses credentials of its own namespace, auth.secretRef (keys in a Secret) or auth.webIdentity (a service account's token exchanged for roleArn)",
        },
      ],
    }),
    status: sourceStatus,
  },
  { required: ['spec'] },
);

const labelSelector = (description: string) =>
  obj(
    description,
    {
      matchLabels: map('Labels a namespace must have.', str('Label value.')),
      matchExpressions: arr(
        'Label selector requirements, all of which must hold.',
        obj(
          'A label selector requirement.',
          {
            key: str('Label key.'),
            operator: str('In, NotIn, Exists or DoesNotExist.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
            values: arr('Values for In / NotIn.', str('A value.')),
          },
          {
            required: ['key', 'operator'],
            rules: [
              {
                rule: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
                message: 'In and NotIn need values; Exists and DoesNotExist take none',
              },
            ],
          },
        ),
      ),
    },
  );

const pathPrefix = (what: string) =>
  str(`A prefix of the remote path ${what}, compared as a plain string: write "payments/" for the secrets under payments/ ("payments" would also match payments-old/...).`, {
    minLength: 1,
    maxLength: 2048,
    pattern: '^[^/].*$',
  });

const namespaceScopes = arr(
  "What the admitted namespaces may do through this source, per namespace. A namespace's scope is the union of the entries that match it (by namespaces or namespaceSelector); with namespaceScopes set, a namespace no entry matches may read nothing through this source. Without namespaceScopes every admitted namespace reads any path and uses any key, and none may rotate (write). Scopes only narrow what admission (allowedNamespaces, namespaceSelector) allows, except rotationPaths, which is the only way to allow rotation through a ClusterSecretSource. With namespaceScopes, remote paths with empty, \".\" or \"..\" segments, a leading \"/\", a backslash, a \"%\" or a control character are refused.",
  obj(
    'One scope entry: which namespaces it applies to (namespaces and/or namespaceSelector) and what they may do.',
    {
      namespaces: arr('Namespaces this entry applies to (they must also be admitted).', str('A namespace name.', { pattern: DNS_LABEL, maxLength: 63 }), {
        'x-kubernetes-list-type': 'set',
        maxItems: 1024,
      }),
      namespaceSelector: labelSelector('Namespaces whose labels match this selector get this entry (they must also be admitted). At least one requirement.'),
      paths: arr(
        'Path prefixes these namespaces may read (data[].remoteRef.path, dataFrom[].remoteRef.path). Absent: any path. For AWS, paths are secret names: an ARN is refused when paths are listed.',
        pathPrefix('that may be read'),
        { 'x-kubernetes-list-type': 'set', maxItems: 256 },
      ),
      rotationPaths: arr(
        'Path prefixes these namespaces may rotate, i.e. write new versions of through spec.rotation (and the secretsync.io/rotate-now annotation). Absent: no rotation.',
        pathPrefix('that may be rotated'),
        { 'x-kubernetes-list-type': 'set', maxItems: 256 },
      ),
      keys: arr(
        'Key-encryption keys these namespaces may use through this source (spec.target.encryption.kek with sourceRef naming this source): for Vault Transit <mount>/<key> (e.g. transit/payments; the mount defaults to transit), for AWS KMS the keyId exactly as the SecretSync writes it (alias/payments, a key id or an ARN). Absent: any key.',
        str('A Transit <mount>/<key> or a KMS keyId.', { minLength: 1, maxLength: 2048 }),
        { 'x-kubernetes-list-type': 'set', maxItems: 256 },
      ),
    },
    {
      rules: [
        {
          rule:
            '(has(self.namespaces) && size(self.namespaces) > 0) || (has(self.namespaceSelector) && ((has(self.namespaceSelector.matchLabels) && size(self.namespaceSelector.matchLabels) > 0) || (has(self.namespaceSelector.matchExpressions) && size(self.namespaceSelector.matchExpressions) > 0)))',
          message: 'a namespaceScopes entry needs namespaces or a namespaceSelector with at least one requirement',
        },
      ],
    },
  ),
  { maxItems: 256 },
);

export const clusterSecretSourceSchema: JSONSchemaProps = obj(
  'ClusterSecretSource says how to reach one secret manager, for SecretSyncs in the namespaces it admits (allowedNamespaces and/or namespaceSelector; with neither it admits no namespace). Secret references resolve in the operator\'s namespace.',
  {
    apiVersion: str('APIVersion of this object.'),
    kind: str('Kind of this object.'),
    metadata: { type: 'object' },
    spec: obj(
      'Exactly one provider block, plus which namespaces may use this source.',
      {
        ...providers,
        allowedNamespaces: arr('Namespaces whose SecretSyncs may use this source.', str('A namespace name.', {
          pattern: DNS_LABEL,
          maxLength: 63,
        }), { 'x-kubernetes-list-type': 'set', maxItems: 1024 }),
        namespaceSelector: labelSelector('Namespaces whose labels match may use this source (in addition to allowedNamespaces).'),
        namespaceScopes,
      },
      { rules: [exactlyOne(providerNames, 'provider block')] },
    ),
    status: sourceStatus,
  },
  { required: ['spec'] },
);

const remotePath = str('Path of the secret in the source: for Vault KV below the mount, without data/; for AWS the secret name or ARN.', {
  minLength: 1,
  maxLength: 2048,
  pattern: '^[^/].*$',
});
const remoteVersion = str('Pin a provider version: Vault KV v2 a version number; AWS a VersionId or a stage (AWSCURRENT, AWSPREVIOUS, custom). Empty: the latest.', {
  maxLength: 128,
});

const DECODING_STRATEGIES = ['None', 'Base64', 'Base64URL', 'Auto'];
/** Case-insensitive, as a pattern: [Nn][Oo][Nn][Ee]|... (OpenAPI patterns take no flags). */
const anyCase = (words: string[]) =>
  `^(${words.map((w) => [...w].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('')).join('|')})$`;
const decodingStrategy = (what: string) =>
  str(
    `How ${what} is decoded before it is synced, for values stored encoded (certificates, binary keys); the names are External Secrets Operator's, in any case. None (default): kept as stored. Base64: standard base64 (RFC 4648 section 4, padded; line breaks ignored), or Ready=False with reason DecodingFailed naming the key. Base64URL: the URL-safe alphabet (section 5), padding optional, or Ready=False likewise. Auto: decoded as Base64 if it is valid padded Base64, else as Base64URL if it is valid padded Base64URL, else kept as stored (so a value such as "1234" that happens to be valid base64 is decoded too: prefer an explicit strategy). In envelope mode the decoded bytes are what is sealed.`,
    { pattern: anyCase(DECODING_STRATEGIES), maxLength: 16 },
  );

const refresh = obj(
  'When the operator re-reads the source. policy Periodic (default): on schedule or interval (one of the two; default interval 1h). Each remote secret sits at a fixed offset of its own inside the interval, and the SecretSyncs that read it share that moment and one read of it (syncs of a batching source such as AWS share one offset, so their reads go out together, 20 secrets a call), so a restart or a leader change neither shifts the schedule nor makes everything due at once. A refresh that finds the same content writes nothing. policy OnChange or CreatedOnce: never on a timer (then set neither schedule nor interval).',
  {
    policy: str(
      'Periodic (default): the source is read on schedule / interval. OnChange: read only when the spec changes (a new metadata.generation), on the secretsync.io/force-sync annotation, after a failure, or to repair a target Secret someone changed or deleted; never on a timer, and not when the SecretSource changes. CreatedOnce: read only while the target Secret does not exist (first sync, or after someone deleted it); while it exists nothing re-reads the source or rewrites it, not even a spec change or an edit of the Secret; a new secretsync.io/force-sync value reads and writes it once (the one way to update it in place). Rotation needs Periodic or OnChange.',
      { enum: ['Periodic', 'OnChange', 'CreatedOnce'], default: 'Periodic' },
    ),
    schedule: str('Cron schedule, 5 fields (minute hour day month weekday) or 6 (with seconds first).', {
      minLength: 9,
      maxLength: 256,
    }),
    interval: str('Duration between refreshes, e.g. 30s, 15m, 1h (at least 10s).', {
      pattern: DURATION,
      maxLength: 64,
    }),
    timeZone: str('IANA time zone for schedule, e.g. Europe/Berlin. Default UTC.', { maxLength: 64 }),
  },
  {
    rules: [
      { rule: '!(has(self.schedule) && has(self.interval))', message: 'set schedule or interval, not both' },
      { rule: '!has(self.timeZone) || has(self.schedule)', message: 'timeZone applies only to schedule' },
      {
        rule: "!has(self.policy) || self.policy == 'Periodic' || (!has(self.schedule) && !has(self.interval))",
        message: 'refresh.schedule and refresh.interval apply only to policy Periodic: OnChange and CreatedOnce never read on a timer',
      },
    ],
  },
);

const sourceRefSchema = (what: string) =>
  obj(`The SecretSource (this namespace) or ClusterSecretSource ${what}. Same admission rules as spec.sourceRef: a ClusterSecretSource must admit this namespace.`, {
    kind: str('SecretSource or ClusterSecretSource.', { enum: ['SecretSource', 'ClusterSecretSource'], default: 'SecretSource' }),
    name: str('Name of the source.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
  }, { required: ['name'] });

const encryption = obj(
  'Envelope mode: the Secret (type secretsync.io/envelope) holds only ciphertext. Each version gets a fresh AES-256 data key from the key-encryption key (KEK) below; pods open it with their own identity through the secretsync agent. Leave target.type unset.',
  {
    kek: obj(
      'The key-encryption key that wraps the data keys. Exactly one of vaultTransit or awsKms.',
      {
        vaultTransit: obj(
          'A Vault / OpenBao Transit key. The operator mints data keys (transit/datakey/plaintext) and re-wraps them (transit/rewrap) through the source; pods decrypt (transit/decrypt) after a Kubernetes-auth login of their own.',
          {
            sourceRef: sourceRefSchema('whose vault block the operator reaches Transit through'),
            mount: str('Mount path of the Transit secrets engine.', { default: 'transit', minLength: 1, maxLength: 256, pattern: '^[^/].*[^/]$|^[^/]$' }),
            key: str('Name of the Transit key (type aes256-gcm96 or any key type that supports datakey).', { minLength: 1, maxLength: 256, pattern: '^[^/]+$' }),
            agentAuth: obj('How pods log in to Vault to decrypt.', {
              kubernetes: obj(
                "Vault Kubernetes auth with the pod's projected service-account token (audience vault).",
                {
                  mount: str('Path where the Kubernetes auth method is mounted.', { default: 'kubernetes', minLength: 1, maxLength: 256 }),
                  role: str('Vault role the pods log in as; its policy needs update on transit/decrypt/<key>.', { minLength: 1, maxLength: 256 }),
                },
                { required: ['role'] },
              ),
            }, { required: ['kubernetes'] }),
          },
          { required: ['sourceRef', 'key', 'agentAuth'] },
        ),
        awsKms: obj(
          "An AWS KMS symmetric key. The operator mints (GenerateDataKey) and re-wraps (ReEncrypt) through the source; pods decrypt (Decrypt) with their own AWS identity. The encryption context names the namespace and the SecretSync.",
          {
            sourceRef: sourceRefSchema('whose aws block the operator reaches KMS through (region, endpoint, credentials)'),
            keyId: str('Key id, key ARN, alias name (alias/...) or alias ARN.', { minLength: 1, maxLength: 2048 }),
          },
          { required: ['sourceRef', 'keyId'] },
        ),
      },
      { rules: [exactlyOne(['vaultTransit', 'awsKms'], 'KEK')] },
    ),
  },
  { required: ['kek'] },
);

const target = obj('The Secret the operator writes.', {
  name: str('Name of the Secret. Default: the SecretSync\'s name.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
  type: str('Secret type. Default Opaque. Types that would mint credentials are refused.', {
    default: 'Opaque',
    maxLength: 253,
    'x-kubernetes-validations': [
      {
        rule: `!(self in [${MINTING_TYPES.map((t) => `'${t}'`).join(', ')}])`,
        message: `target.type must not be ${MINTING_TYPES.join(' or ')}: the API server would mint credentials into it`,
      },
    ],
  }),
  labels: map('Labels added to the Secret.', str('Label value.')),
  annotations: map('Annotations added to the Secret.', str('Annotation value.')),
  deletionPolicy: str('What happens to the Secret when the SecretSync is deleted: Delete it, or Retain it.', {
    enum: ['Delete', 'Retain'],
    default: 'Delete',
  }),
  maxSizeBytes: int('Largest total size of the synced keys and values, in bytes (Secrets cannot exceed 1 MiB).', {
    minimum: 1,
    maximum: 1_048_576,
    default: 524_288,
  }),
  immutable: bool(
    'Create the Secret with immutable: true (the API server then refuses any change to its data, and kubelets stop watching it). A new version cannot be written into it: when the source content changes, nothing is written and Ready=False with reason TargetImmutable says which version the Secret holds and how to move on: delete the Secret and the operator re-creates it, immutable, with the new content (and rolls the workloads that use it). Turning immutable off needs the same: delete the Secret. Not with spec.rotation (every rotation is a new version). Envelope mode: a KEK rotation does not re-wrap an immutable Secret (its data keys stay under the KEK version that wrapped them until the Secret is re-created).',
    { default: false },
  ),
  encryption,
  template: obj(
    'Build the keys of the Secret from the synced keys (spec.data keys and dataFrom properties) instead of copying them: a database URL, a config file, a .dockerconfigjson. With a template the Secret holds exactly the keys of template.data. Syntax (docs/templates.md): Mustache, rendered by mustache.js: {{ key }} is the value of the synced key, byte for byte (no escaping), and the only sections are filters applied to their rendered content, {{#b64enc}}{{ user }}:{{ password }}{{/b64enc}}: b64enc, b64dec, json, yaml, trim, upper, lower. No conditions, loops, partials or property access beyond the synced keys. In envelope mode the template is sealed with the values and the agent renders it inside the pod.',
    {
      data: map(
        'Key of the Secret (also the file name under /run/secrets/<sync>/) to its template. A template without tags is a literal value.',
        str('The template text.', { maxLength: MAX_TEMPLATE_CHARS }),
        {
          minProperties: 1,
          maxProperties: MAX_TEMPLATE_KEYS,
          'x-kubernetes-validations': [
            { rule: "self.all(k, k.matches('^[-._a-zA-Z0-9]+$') && size(k) <= 253)", message: 'template.data keys are Secret keys: letters, digits, -, _ and ., at most 253 characters' },
            { rule: "self.all(k, k != '.' && k != '..' && k != '__proto__')", message: 'template.data keys must not be ., .. or __proto__' },
          ],
        },
      ),
    },
    { required: ['data'] },
  ),
}, {
  rules: [
    {
      rule: "!has(self.encryption) || !has(self.type) || self.type == 'Opaque'",
      message: 'with target.encryption the Secret type is secretsync.io/envelope: leave target.type unset',
    },
  ],
});

const mount = obj(
  'How the secretsync agent writes the files in pods (/run/secrets/<sync>/<key>), in envelope and plain mode alike.',
  {
    mode: str('File mode, octal, e.g. "0400".', { pattern: '^0?[0-7]{3}$', default: '0400' }),
    uid: int('Owner user id of the files. Default: the agent\'s own.', { minimum: 0, maximum: 2147483647 }),
    gid: int('Owner group id of the files. Default: the agent\'s own.', { minimum: 0, maximum: 2147483647 }),
  },
);

const access = obj(
  'Who may receive the secret. The operator keeps a Role and RoleBinding in this namespace granting get and watch on exactly the target Secret to exactly these service accounts (the agent reads it with the pod\'s identity), and removes them when this block goes.',
  {
    serviceAccounts: arr('Service accounts of this namespace.', str('A service account name.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }), {
      'x-kubernetes-list-type': 'set',
      maxItems: 256,
    }),
  },
  { required: ['serviceAccounts'] },
);

const rotation = obj(
  'Scheduled rotation: on schedule the operator generates new values for keys, writes them to the source as a new version (Vault KV v2 with check-and-set; AWS PutSecretValue staged AWSPENDING, then promoted to AWSCURRENT), keeping every other property of the secret, then syncs. The schedule counts from status.lastRotationTime, so ticks missed while the operator was down rotate once, not once per tick. The annotation secretsync.io/rotate-now rotates once per new value. Needs a KV v2 mount (KV v1 keeps no versions) and no pinned remoteRef.version on a rotated path.',
  {
    schedule: str('Cron schedule, 5 fields (minute hour day month weekday) or 6 (with seconds first).', { minLength: 9, maxLength: 256 }),
    timeZone: str('IANA time zone for schedule, e.g. Europe/Berlin. Default UTC. Daylight-saving changes rotate once: a tick in the skipped hour runs at the change, a tick in the repeated hour once.', { maxLength: 64 }),
    keys: arr(
      'Keys of the target that get new values: a spec.data key (its remoteRef.property is written), or a property of the one spec.dataFrom secret.',
      str('A key of the target.', { pattern: FILE_KEY, maxLength: 253 }),
      { 'x-kubernetes-list-type': 'set', minItems: 1, maxItems: 64 },
    ),
    generator: obj('How new values are made: length characters drawn uniformly (crypto.randomInt) from charset.', {
      length: int('Number of characters.', { minimum: 8, maximum: 4096, default: 32 }),
      charset: str('alphanumeric (A-Z a-z 0-9), ascii-printable (! to ~, no space), hex (0-9 a-f) or base64 (A-Z a-z 0-9 + /).', {
        enum: ['alphanumeric', 'ascii-printable', 'hex', 'base64'],
        default: 'alphanumeric',
      }),
    }),
  },
  { required: ['schedule', 'keys'] },
);

const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet'];
const rollout = obj(
  'Rolling dependent workloads when a new version is synced: the operator sets the pod-template annotation secretsync.io/version-<this SecretSync> to the new version number, once per version (never a timestamp), so reconciles, operator restarts and leader changes never roll anything. With envelope mode and injection, pods of the old template keep decrypting the old version.',
  {
    auto: bool('Roll every Deployment, StatefulSet and DaemonSet of this namespace whose pod template mounts the target Secret, takes env from it, or asks for its injection.', { default: false }),
    targets: arr(
      'Workloads of this namespace to roll by name (in addition to auto). A listed workload is rolled only if its pod template uses the target Secret (volume, projected volume, env, envFrom) or injects this SecretSync, or if it opts in with the annotation secretsync.io/rollout-from: "<this SecretSync>[,...]" on its own metadata; otherwise it is never patched and status.rollout says NotUsing.',
      obj('A workload.', {
        kind: str('Deployment, StatefulSet or DaemonSet.', { enum: workloadKinds }),
        name: str('Name of the workload.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
      }, { required: ['kind', 'name'] }),
      { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['kind', 'name'], maxItems: 256 },
    ),
    minInterval: str('At most one rollout per workload per this duration, e.g. 30s or 5m; versions synced meanwhile roll together afterwards. Default: none.', {
      pattern: DURATION,
      maxLength: 64,
    }),
  },
  { rules: [{ rule: "(has(self.auto) && self.auto) || (has(self.targets) && size(self.targets) > 0)", message: 'rollout: set auto: true or list targets' }] },
);

const pendingRotation = obj(
  'A rotation in progress, recorded before the source is written: an interrupted rotation is finished on the next reconcile, never repeated.',
  {
    id: str('Unique id of the rotation (the AWS ClientRequestToken).', { maxLength: 64 }),
    trigger: str('schedule or rotate-now.', { enum: ['schedule', 'rotate-now'] }),
    startedAt: str('When the rotation started.', { format: 'date-time' }),
    basedOn: map('Remote path → the provider version the new values are written on top of.', str('A version id.')),
  },
  { required: ['id', 'trigger', 'startedAt', 'basedOn'] },
);

const rolloutStatus = obj('The dependent workloads and the version each runs.', {
  targets: arr(
    'One entry per dependent workload.',
    obj('A workload and its rollout.', {
      kind: str('Deployment, StatefulSet or DaemonSet.', { enum: workloadKinds }),
      name: str('Name of the workload.'),
      version: int('The version the workload\'s pod template is on.', { minimum: 0 }),
      lastRolloutTime: str('When the operator last rolled it.', { format: 'date-time' }),
      state: str('Complete, Progressing, Failed, Missing, or NotUsing (named in spec.rollout.targets, but its pod template neither uses the target Secret nor injects this SecretSync, and it does not opt in with the annotation secretsync.io/rollout-from: never patched).', { enum: ['Complete', 'Progressing', 'Failed', 'Missing', 'NotUsing'] }),
      replicas: int('Desired replicas (DaemonSet: desired scheduled pods).', { minimum: 0 }),
      updatedReplicas: int('Replicas on the current pod template.', { minimum: 0 }),
      readyReplicas: int('Ready replicas.', { minimum: 0 }),
      message: str('What the rollout waits for, or why it failed.', { maxLength: 4096 }),
    }, { required: ['kind', 'name', 'version', 'state'] }),
    { maxItems: 1024 },
  ),
});

export const secretSyncSchema: JSONSchemaProps = obj(
  'SecretSync keeps a Kubernetes Secret in step with values held in an external secret manager.',
  {
    apiVersion: str('APIVersion of this object.'),
    kind: str('Kind of this object.'),
    metadata: { type: 'object' },
    spec: obj(
      'What to read, from where, how often, and what to write.',
      {
        sourceRef: obj('The SecretSource (this namespace) or ClusterSecretSource to read through.', {
          kind: str('SecretSource or ClusterSecretSource.', {
            enum: ['SecretSource', 'ClusterSecretSource'],
            default: 'SecretSource',
          }),
          name: str('Name of the source.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
        }, { required: ['name'] }),
        data: arr(
          'One entry per key of the target Secret.',
          obj(
            'A key of the target and the remote value it holds.',
            {
              key: str('Key in the target Secret; also the file name under /run/secrets/<sync>/.', {
                pattern: FILE_KEY,
                maxLength: 253,
                'x-kubernetes-validations': [
                  { rule: "self != '.' && self != '..'", message: 'key must not be . or ..' },
                  {
                    rule: "self != '__proto__'",
                    message: 'key must not be __proto__ (a JavaScript object would drop it silently): choose another name',
                  },
                ],
              }),
              remoteRef: obj('Where the value lives in the source.', {
                path: remotePath,
                property: str('A property of the secret (dotted path into nested JSON). Empty: the whole secret.', {
                  maxLength: 1024,
                }),
                version: remoteVersion,
              }, { required: ['path'] }),
              decodingStrategy: decodingStrategy('the value'),
            },
            { required: ['key', 'remoteRef'] },
          ),
          { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'], maxItems: 500 },
        ),
        dataFrom: arr(
          'Secrets whose every property becomes a key of the target: one named secret (remoteRef) or every secret a find discovers. Keys from data win over dataFrom; two dataFrom secrets giving the same key (after rewrite) are refused with both named.',
          obj('A whole remote secret, or the secrets a find discovers. Exactly one of remoteRef or find.', {
            remoteRef: obj('Where the secret lives in the source.', { path: remotePath, version: remoteVersion }, {
              required: ['path'],
            }),
            decodingStrategy: decodingStrategy('every property of the secret (of every secret a find discovers)'),
            find: obj(
              'Discovers secrets (as External Secrets Operator\'s dataFrom.find): every secret under path, optionally only those whose name matches name.regexp and (AWS) carrying every one of tags. Each one found contributes its properties as keys, as with remoteRef; the latest version of each is read. At most --find-max-secrets secrets (default 100) for all the finds of a SecretSync, else Ready=False (reason FindLimitExceeded). A secret appearing or going under the path changes the content at the next refresh. Not with spec.rotation.',
              {
                path: str('Vault: the folder under the KV mount to list, recursively (KV v2 metadata), e.g. payments/app. AWS: a prefix of the secret names, matched case-sensitively. Absent: the whole mount (Vault) or every secret (AWS); required when the ClusterSecretSource scopes paths for the namespace, and then within one of its prefixes.', {
                  minLength: 1,
                  maxLength: 2048,
                  pattern: '^[^/].*$',
                }),
                name: obj('Keeps only the secrets whose name matches.', {
                  regexp: str('An RE2 regular expression (no backreferences or lookaround; linear time), matched anywhere in the secret\'s full path or name (anchor it with ^ and $).', { minLength: 1, maxLength: 256 }),
                }, { required: ['regexp'] }),
                tags: map('AWS only: keeps only the secrets carrying every one of these tags with exactly this value.', str('A tag value.', { maxLength: 256 }), { maxProperties: 16 }),
              },
              {
                rules: [
                  {
                    rule: 'has(self.path) || has(self.name) || (has(self.tags) && size(self.tags) > 0)',
                    message: 'find: set path, name.regexp or tags',
                  },
                ],
              },
            ),
            rewrite: arr(
              'Rewrites the keys this entry gives, in order (as External Secrets Operator\'s dataFrom.rewrite): each rule replaces every match of regexp.source in a key with regexp.target. A prefix: source "^", target "db_". A key rewritten to an invalid key name is refused.',
              obj('One rewrite.', {
                regexp: obj('A regular-expression replacement.', {
                  source: str('An RE2 regular expression (no backreferences or lookaround; linear time).', { minLength: 1, maxLength: 256 }),
                  target: str('The replacement, expanded as Go\'s regexp does (ESO\'s rewrite): $1 or ${1} for a group by number, $name or ${name} by name, $$ for a dollar sign; a group that does not exist expands to nothing.', { maxLength: 253 }),
                }, { required: ['source', 'target'] }),
              }, { required: ['regexp'] }),
              { maxItems: 16 },
            ),
          }, {
            rules: [{ rule: 'has(self.remoteRef) != has(self.find)', message: 'a dataFrom entry needs exactly one of remoteRef or find' }],
          }),
          { maxItems: 50 },
        ),
        refresh,
        target,
        mount,
        access,
        rotation,
        rollout,
      },
      {
        required: ['sourceRef'],
        rules: [
          {
            rule: '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
            message: 'set at least one entry in data or dataFrom',
          },
          {
            rule: '!has(self.rotation) || !has(self.target) || !has(self.target.immutable) || !self.target.immutable',
            message: 'spec.rotation writes a new version on every rotation, which an immutable Secret cannot take: remove spec.rotation or spec.target.immutable',
          },
          {
            rule: "!has(self.rotation) || !has(self.refresh) || !has(self.refresh.policy) || self.refresh.policy != 'CreatedOnce'",
            message: 'spec.rotation needs refresh.policy Periodic or OnChange: with CreatedOnce the rotated values would never reach the Secret',
          },
        ],
      },
    ),
    status: obj('Observed state. Holds keyed HMACs and version ids, never a secret value.', {
      conditions,
      observedGeneration: int('The .metadata.generation last processed.', { minimum: 0 }),
      version: int('Version of the synced content: starts at 1, bumps only when the content changes.', {
        minimum: 0,
      }),
      contentHmac: str('HMAC-SHA256 of the synced content under a key derived for this SecretSync (its namespace and uid) from an operator key, so equal values in two objects never compare equal (never a bare hash).'),
      sourceVersions: map('Provider version id of each remote path read.', str('A version id.')),
      lastSyncTime: str(
        'When the operator last wrote the target Secret: a new version, a spec change, or a repair of a Secret changed or deleted by someone else. A refresh that finds the same content writes nothing, so it does not move this time; the Ready condition says how often the source is checked.',
        { format: 'date-time' },
      ),
      keyId: str(
        'Envelope mode: the KEK version that wraps the current version\'s data key, e.g. vault-transit:transit/secretsync:v2 or aws-kms:<key ARN>. Changes when the KEK is rotated and the copies are re-wrapped (version does not change then).',
        { maxLength: 2048 },
      ),
      lastRotationTime: str('When the operator last wrote new values to the source (spec.rotation).', { format: 'date-time' }),
      nextRotationTime: str('When the next scheduled rotation is due (spec.rotation); a time in the past means it runs now.', { format: 'date-time' }),
      pendingRotation,
      rotateNowHandled: str(
        'The value of the secretsync.io/rotate-now annotation the operator last acted upon (values over 128 characters as sha256:<hex>). Setting the annotation to any other value rotates once.',
        { maxLength: 256 },
      ),
      rollout: rolloutStatus,
      forceSyncHandled: str(
        'The value of the secretsync.io/force-sync annotation the operator last acted upon (values over 128 characters as sha256:<hex>). Setting the annotation to any other value syncs once.',
        { maxLength: 256 },
      ),
      lastForceSyncTime: str(
        'When the operator last acted upon a new secretsync.io/force-sync value. A newer value waits until 10s after it (condition Synced, reason Throttled), then syncs by itself.',
        { format: 'date-time' },
      ),
    }),
  },
  { required: ['spec'] },
);
