// Build step placeholder: compiles contracts and bundles the enclave (filled in by the build modules).
console.log('build: nothing to build yet');
