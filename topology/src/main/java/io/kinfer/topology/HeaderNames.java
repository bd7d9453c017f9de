package io.kinfer.topology;

/** Names of the Kafka record headers the worker writes, in one place. */
public final class HeaderNames {
  public static final String MODEL = "kinfer.model";
  public static final String VERSION = "kinfer.version";
  public static final String VARIANT = "kinfer.variant";
  public static final String PLAN_GENERATION = "kinfer.plan.generation";
  public static final String STATUS = "kinfer.status";

  public static final String ERROR_CLASS = "kinfer.error.class";
  public static final String ERROR_MESSAGE = "kinfer.error.message";
  public static final String ERROR_STAGE = "kinfer.error.stage";
  public static final String SOURCE_TOPIC = "kinfer.source.topic";
  public static final String SOURCE_PARTITION = "kinfer.source.partition";
  public static final String SOURCE_OFFSET = "kinfer.source.offset";

  private HeaderNames() {}
}
