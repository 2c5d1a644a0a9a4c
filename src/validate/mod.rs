//! Offline validation of rendered objects: schemas, CRDs, removed APIs, duplicates, policy.
//! Must not: print or talk to a cluster.
