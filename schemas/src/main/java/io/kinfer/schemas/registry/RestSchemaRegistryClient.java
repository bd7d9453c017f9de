package io.kinfer.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Confluent Schema Registry REST client. Ids and schemas never change once assigned, so lookups by
 * id and registrations are cached for the life of the client; everything else goes to the server.
 */
public final class RestSchemaRegistryClient implements SchemaRegistry {
  public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final HttpClient http;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();

  public RestSchemaRegistryClient(String baseUrl) {
    this.base = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  @Override
  public int register(String subject, Schema schema) {
    Map<Schema, Integer> known = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
    Integer cached = known.get(schema);
    if (cached != null) {
      return cached;
    }
    JsonNode reply = call("POST", "subjects/" + enc(subject) + "/versions", schemaBody(schema));
    int id = reply.get("id").asInt();
    known.put(schema, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema) {
    return registered(call("POST", "subjects/" + enc(subject), schemaBody(schema)));
  }

  @Override
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    Schema schema = parse(call("GET", "schemas/ids/" + id, null).get("schema").asText());
    schemasById.putIfAbsent(id, schema);
    return schema;
  }

  @Override
  public RegisteredSchema version(String subject, String version) {
    return registered(call("GET", "subjects/" + enc(subject) + "/versions/" + enc(version), null));
  }

  @Override
  public List<String> subjects() {
    List<String> out = new ArrayList<>();
    call("GET", "subjects", null).forEach(n -> out.add(n.asText()));
    return out;
  }

  @Override
  public List<Integer> versions(String subject) {
    List<Integer> out = new ArrayList<>();
    call("GET", "subjects/" + enc(subject) + "/versions", null).forEach(n -> out.add(n.asInt()));
    return out;
  }

  @Override
  public boolean isCompatible(String subject, String version, Schema schema) {
    return call("POST", "compatibility/subjects/" + enc(subject) + "/versions/" + enc(version),
        schemaBody(schema)).get("is_compatible").asBoolean();
  }

  @Override
  public CompatibilityLevel compatibility(String subject) {
    String path = subject == null ? "config" : "config/" + enc(subject) + "?defaultToGlobal=true";
    return CompatibilityLevel.valueOf(call("GET", path, null).get("compatibilityLevel").asText());
  }

  @Override
  public void setCompatibility(String subject, CompatibilityLevel level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
    call("PUT", subject == null ? "config" : "config/" + enc(subject), body);
  }

  private static ObjectNode schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString());
  }

  private static RegisteredSchema registered(JsonNode n) {
    return new RegisteredSchema(n.get("subject").asText(), n.get("version").asInt(),
        n.get("id").asInt(), parse(n.get("schema").asText()));
  }

  private static Schema parse(String text) {
    return new Schema.Parser().parse(text);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private JsonNode call(String method, String path, JsonNode body) {
    URI uri = base.resolve(path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
        .header("Accept", CONTENT_TYPE);
    try {
      if (body == null) {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      } else {
        request.header("Content-Type", CONTENT_TYPE)
            .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
      }
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      JsonNode reply = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
      if (response.statusCode() / 100 != 2) {
        int code = reply.path("error_code").asInt(response.statusCode());
        String message = reply.path("message").asText("HTTP " + response.statusCode());
        throw new SchemaRegistryException(response.statusCode(), code,
            message + " (" + method + " " + uri + ", error code " + code + ")");
      }
      return reply;
    } catch (IOException e) {
      throw new SchemaRegistryException("Schema Registry unreachable at " + uri
          + ": check schema.registry.url and that the registry is running", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException("Interrupted calling " + uri, e);
    }
  }
}
