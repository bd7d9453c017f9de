package io.kinfer.dev.e2e;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The answer a text embedding version should give, computed without the worker: its own
 * tokenizer.json and ONNX Runtime on one text alone (no padding), mean-pooled and L2-normalised.
 */
final class TextReference implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final HuggingFaceTokenizer tokenizer;
  private final OrtSession session;

  /** Reads {@code versionDir}/tokenizer.json and model.onnx. */
  TextReference(Path versionDir, int maxLength) throws Exception {
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
    String max = Integer.toString(maxLength);
    tokenizer = HuggingFaceTokenizer.newInstance(versionDir.resolve("tokenizer.json"),
        Map.of("padding", "false", "truncation", "true", "maxLength", max, "modelMaxLength", max));
    session = env.createSession(Files.readAllBytes(versionDir.resolve("model.onnx")), new OrtSession.SessionOptions());
  }

  float[] embed(String text) throws Exception {
    Encoding e = tokenizer.encode(text);
    long[] shape = {1, e.getIds().length};
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape);
        OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      float[][] hidden = ((float[][][]) r.get(0).getValue())[0];
      double[] mean = new double[hidden[0].length];
      for (float[] token : hidden) { // no padding: every token is real
        for (int d = 0; d < mean.length; d++) {
          mean[d] += token[d] / hidden.length;
        }
      }
      double norm = 0;
      for (double v : mean) {
        norm += v * v;
      }
      float[] out = new float[mean.length];
      for (int d = 0; d < mean.length; d++) {
        out[d] = (float) (mean[d] / Math.sqrt(norm));
      }
      return out;
    }
  }

  static float[] floats(java.nio.ByteBuffer raw) {
    FloatBuffer fb = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  @Override
  public void close() throws Exception {
    session.close();
    tokenizer.close();
  }
}
