package io.kinfer.topology.control;

import java.security.PublicKey;
import java.util.Map;

/** Accepts a command only when it is signed by one of the trusted keys it names. */
public final class CommandVerifier {
  private final Map<String, PublicKey> trusted;

  /** @param trusted key id → public key */
  public CommandVerifier(Map<String, PublicKey> trusted) {
    this.trusted = Map.copyOf(trusted);
  }

  /** @return null when valid, else why not */
  public String check(ControlRecord record) {
    if (record.signature() == null || record.keyId() == null) {
      return "unsigned command: sign it with 'ops ctl --key FILE --key-id ID'";
    }
    PublicKey key = trusted.get(record.keyId());
    if (key == null) {
      return "unknown key id '" + record.keyId() + "'; trusted: " + trusted.keySet();
    }
    return record.signedBytes() != null && ControlSigning.verify(record.signedBytes(), record.signature(), key)
        ? null : "bad signature for key id '" + record.keyId() + "'";
  }
}
