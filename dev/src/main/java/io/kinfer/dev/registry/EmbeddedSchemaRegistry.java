package io.kinfer.dev.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.kinfer.schemas.registry.CompatibilityLevel;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.registry.SchemaRegistry.RegisteredSchema;
import io.kinfer.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A Schema Registry endpoint in this JVM that speaks the Confluent REST API (Avro schemas), so any
 * Confluent-compatible client in any language can use the dev stack. State lives in an {@link
 * InMemorySchemaRegistry}; give it a {@link KafkaSchemaJournal} to keep schemas across restarts.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 1 << 20;

  private final InMemorySchemaRegistry registry;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "schema-registry-http");
    t.setDaemon(true);
    return t;
  });

  public EmbeddedSchemaRegistry(InMemorySchemaRegistry registry, String host, int port) throws IOException {
    this.registry = registry;
    this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
  }

  public InMemorySchemaRegistry state() {
    return registry;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      int status = 200;
      Object body;
      try {
        body = route(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
            exchange.getRequestURI().getRawQuery(), exchange.getRequestBody());
      } catch (SchemaRegistryException e) {
        status = e.httpStatus();
        body = error(e.errorCode(), e.getMessage());
      } catch (RuntimeException e) {
        status = 500;
        body = error(SchemaRegistryException.INTERNAL, "Internal error: " + e);
      }
      byte[] bytes = JSON.writeValueAsBytes(body);
      exchange.getResponseHeaders().set("Content-Type", RestSchemaRegistryClient.CONTENT_TYPE);
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  private Object route(String method, String rawPath, String query, InputStream in) throws IOException {
    String[] p = rawPath.replaceAll("^/+|/+$", "").split("/");
    for (int i = 0; i < p.length; i++) {
      p[i] = URLDecoder.decode(p[i], StandardCharsets.UTF_8);
    }
    String route = method + " " + shape(p);
    switch (route) {
      case "GET subjects":
        return registry.subjects();
      case "GET subjects/*/versions":
        return registry.versions(p[1]);
      case "POST subjects/*/versions":
        return JSON.createObjectNode().put("id", registry.register(p[1], schemaOf(in)));
      case "POST subjects/*":
        return registered(registry.lookup(p[1], schemaOf(in)));
      case "GET subjects/*/versions/*":
        return registered(registry.version(p[1], p[3]));
      case "GET subjects/*/versions/*/schema":
        return JSON.readTree(registry.version(p[1], p[3]).schema().toString());
      case "GET schemas/ids/*":
        return JSON.createObjectNode().put("schema", registry.schemaById(parseId(p[2])).toString());
      case "POST compatibility/subjects/*/versions/*":
        return JSON.createObjectNode().put("is_compatible", registry.isCompatible(p[2], p[4], schemaOf(in)));
      case "GET config":
        return JSON.createObjectNode().put("compatibilityLevel", registry.compatibility(null).name());
      case "PUT config":
        return setLevel(null, in);
      case "GET config/*":
        return subjectLevel(p[1], query != null && query.contains("defaultToGlobal=true"));
      case "PUT config/*":
        return setLevel(p[1], in);
      default:
        throw new SchemaRegistryException(404, 404, "HTTP 404 Not Found: " + method + " " + rawPath
            + " is not part of the Schema Registry API served here");
    }
  }

  /** The path with subject names, versions and ids replaced by '*', to switch on. */
  private static String shape(String[] p) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < p.length; i++) {
      boolean variable = switch (p[0]) {
        case "subjects" -> i == 1 || i == 3;
        case "schemas" -> i == 2;
        case "compatibility" -> i == 2 || i == 4;
        case "config" -> i == 1;
        default -> false;
      };
      out.append(i == 0 ? "" : "/").append(variable ? "*" : p[i]);
    }
    return out.toString();
  }

  private Object subjectLevel(String subject, boolean defaultToGlobal) {
    CompatibilityLevel level = registry.subjectCompatibility(subject);
    if (level == null && !defaultToGlobal) {
      throw SchemaRegistryException.notFound(40408, "Subject '" + subject
          + "' does not have subject-level compatibility configured");
    }
    return JSON.createObjectNode().put("compatibilityLevel",
        (level == null ? registry.compatibility(null) : level).name());
  }

  private Object setLevel(String subject, InputStream in) throws IOException {
    String requested = readJson(in).path("compatibility").asText("");
    CompatibilityLevel level;
    try {
      level = CompatibilityLevel.valueOf(requested);
    } catch (IllegalArgumentException e) {
      throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_COMPATIBILITY_LEVEL,
          "Invalid compatibility level '" + requested + "'. Valid values are "
              + java.util.Arrays.toString(CompatibilityLevel.values()));
    }
    registry.setCompatibility(subject, level);
    return JSON.createObjectNode().put("compatibility", level.name());
  }

  private static Schema schemaOf(InputStream in) throws IOException {
    JsonNode body = readJson(in);
    String type = body.path("schemaType").asText("AVRO");
    if (!"AVRO".equals(type)) {
      throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_SCHEMA,
          "Schema type " + type + " is not supported by the embedded registry (AVRO only)");
    }
    if (!body.hasNonNull("schema")) {
      throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_SCHEMA,
          "Request body needs a \"schema\" field holding the Avro schema as a string");
    }
    try {
      return new Schema.Parser().parse(body.get("schema").asText());
    } catch (SchemaParseException e) {
      throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_SCHEMA,
          "Invalid schema: " + e.getMessage());
    }
  }

  private static JsonNode readJson(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    if (bytes.length > MAX_BODY_BYTES) {
      throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_SCHEMA,
          "Request body over " + MAX_BODY_BYTES + " bytes");
    }
    try {
      return bytes.length == 0 ? JSON.createObjectNode() : JSON.readTree(bytes);
    } catch (IOException e) {
      throw new SchemaRegistryException(400, 400, "Unparseable JSON body: " + e.getMessage());
    }
  }

  private static int parseId(String id) {
    try {
      return Integer.parseInt(id);
    } catch (NumberFormatException e) {
      throw SchemaRegistryException.notFound(SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + id + " not found");
    }
  }

  private static ObjectNode registered(RegisteredSchema r) {
    return JSON.createObjectNode().put("subject", r.subject()).put("version", r.version())
        .put("id", r.id()).put("schema", r.schema().toString());
  }

  private static ObjectNode error(int code, String message) {
    return JSON.createObjectNode().put("error_code", code).put("message", message);
  }
}
