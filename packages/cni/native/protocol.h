/*
 * The protocol's constants, defined once in src/protocol.ts and src/conflist.ts: buildNative
 * (src/build-native.ts) passes them to the compiler as -D flags.
 */
#ifndef SWITCHYARD_PROTOCOL_H
#define SWITCHYARD_PROTOCOL_H

#if !defined(SY_AGENT_SOCKET) || !defined(SY_CNI_PATH) || !defined(SY_START_PATH) || \
    !defined(SY_AGENT_TIMEOUT_S) || !defined(SY_CNI_VERSIONS)
#error "build with buildNative (src/build-native.ts): it defines the protocol's constants from src/protocol.ts"
#endif

#endif
