# Worker image. Build stage uses Maven; the runtime is a JRE with a non-root user.
#   docker build -t kinfer .                      # CPU
#   docker build -t kinfer-gpu --target runtime-gpu --build-arg MAVEN_PROFILES=gpu .
FROM maven:3.9-eclipse-temurin-17 AS build
ARG MAVEN_PROFILES=""
WORKDIR /src
COPY pom.xml .
COPY schemas schemas
COPY topology topology
COPY worker worker
COPY evaluation evaluation
COPY client client
COPY ops ops
# The reactor lists dev; its pom is enough, since only ops and what it needs are built (-pl ops -am).
COPY dev/pom.xml dev/pom.xml
COPY docs docs
COPY config config
COPY .mvn .mvn
# Only the ops distribution: the dev module (embedded broker, packaged models, demo, bench) stays out of the image.
RUN mvn -B -q -DskipTests ${MAVEN_PROFILES:+-P$MAVEN_PROFILES} -pl ops -am package

# CUDA runtime for the GPU build (ONNX Runtime 1.2x GPU needs CUDA 12 and cuDNN 9).
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS runtime-gpu
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 kinfer && useradd --system --uid 10001 --gid kinfer --no-create-home kinfer \
    && mkdir /secrets && chown 10001:10001 /secrets
WORKDIR /app
COPY --from=build /src/ops/target/kinfer-ops.jar /app/kinfer-ops.jar
COPY --from=build /src/ops/target/lib /app/lib
# /secrets: owned by the user, so a named volume mounted there (compose security-init) is writable.
USER 10001:10001
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError" ORT_DISABLE_TELEMETRY=1 KINFER_DEVICE=cuda
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/kinfer-ops.jar"]
CMD ["worker"]

# The default target (last stage): CPU.
FROM eclipse-temurin:17-jre AS runtime
RUN groupadd --system --gid 10001 kinfer && useradd --system --uid 10001 --gid kinfer --no-create-home kinfer \
    && mkdir /secrets && chown 10001:10001 /secrets
WORKDIR /app
COPY --from=build /src/ops/target/kinfer-ops.jar /app/kinfer-ops.jar
COPY --from=build /src/ops/target/lib /app/lib
USER 10001:10001
# Heap follows the container's memory limit; the rest is left to ONNX Runtime's native memory.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError" ORT_DISABLE_TELEMETRY=1
EXPOSE 8080
# bash, not sh: /dev/tcp is a bash feature (sh is dash here).
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200' <&3"]
ENTRYPOINT ["java", "-jar", "/app/kinfer-ops.jar"]
CMD ["worker"]
