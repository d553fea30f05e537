/**
 * class-transformer keeps its @Type metadata in this module; the package ships its types
 * elsewhere (types/) and has no `exports` map, so the path is stable across 0.5.x.
 */
declare module 'class-transformer/cjs/storage' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';
  export const defaultMetadataStorage: MetadataStorage;
}
