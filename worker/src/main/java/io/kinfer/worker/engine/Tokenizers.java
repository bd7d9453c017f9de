package io.kinfer.worker.engine;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Map;

/**
 * Loads Hugging Face tokenizers (DJL's JNI binding of the Rust library) with nothing calling home:
 * DJL sends usage reports from {@code HuggingFaceTokenizer.newInstance} (an EC2 metadata lookup,
 * then an HTTPS request) unless {@code OPT_OUT_TRACKING} is true, and in offline mode it never
 * downloads native libraries (the linux-x86_64 CPU one is inside the jar). Both are set as system
 * properties before the first DJL class loads; DJL lets environment variables override them, so an
 * environment that switches either back on is refused rather than obeyed.
 */
public final class Tokenizers {
  static {
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
  }

  private Tokenizers() {}

  /** Throws when the environment would let DJL report usage or download. */
  static void checkEnvironment() {
    for (String name : new String[] {"OPT_OUT_TRACKING", "DJL_OFFLINE"}) {
      String value = System.getenv(name);
      if (value != null && !Boolean.parseBoolean(value)) {
        throw new IllegalStateException("Environment variable " + name + "=" + value + " would let the tokenizer"
            + " library (DJL) report usage or download native code; unset it or set it to true");
      }
    }
  }

  /**
   * A tokenizer from the bytes of a tokenizer.json: truncation to {@code maxLength} tokens (longest
   * first), special tokens added, and no padding whatever the file asks for (the batcher pads to the
   * batch's longest).
   */
  public static HuggingFaceTokenizer load(byte[] tokenizerJson, int maxLength) throws IOException {
    checkEnvironment();
    return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), Map.of(
        "padding", "false",
        "truncation", "true",
        "maxLength", String.valueOf(maxLength),
        "modelMaxLength", String.valueOf(maxLength),
        "addSpecialTokens", "true"));
  }
}
