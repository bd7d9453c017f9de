package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;

/**
 * One control topic value as received. {@code command} is what this worker obeys (decoded with its
 * own schema); {@code keyId}, {@code signature} and {@code signedBytes} come from the value as
 * written, under the writer's schema, so they do not change when this worker's schema does.
 *
 * @param keyId null when the writer's record has none
 * @param signature null when the writer's record has none
 * @param signedBytes what a valid {@code signature} covers; null when it cannot be derived (then no
 *     signature is valid)
 */
public record ControlRecord(ControlCommand command, String keyId, byte[] signature, byte[] signedBytes) {}
