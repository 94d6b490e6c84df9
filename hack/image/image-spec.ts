// The shape of an image to write as an archive: a name, a root filesystem (a directory)
// and the parts of the image config a runtime reads. The same shape as ImageSpec in
// test/testenv/image-archive.ts (the archive writer); this copy stands until that file is
// on main, then the import points there.
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  ExposedPorts?: Record<string, object>;
}

export interface ImageSpec {
  /** e.g. ghcr.io/secretsync/secretsync:0.1.0 */
  name: string;
  /** a directory */
  rootfs: string;
  config: ImageConfig;
}
