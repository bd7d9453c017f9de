package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
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
  public String check(ControlCommand command) {
    if (command.getSignature() == null || command.getKeyId() == null) {
      return "unsigned command: sign it with 'ops ctl --key FILE --key-id ID'";
    }
    PublicKey key = trusted.get(command.getKeyId());
    if (key == null) {
      return "unknown key id '" + command.getKeyId() + "'; trusted: " + trusted.keySet();
    }
    return ControlSigning.verify(command, key) ? null : "bad signature for key id '" + command.getKeyId() + "'";
  }
}
