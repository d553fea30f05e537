{{/*
One role's Deployment. Every role runs the same image and configuration; APP_ROLE decides which
parts start. Call with (dict "root" $ "role" "ingest"), the role's values being .Values.<role>.
*/}}
{{- define "opentact-bridge.deployment" -}}
{{- $root := .root }}
{{- $role := .role }}
{{- $cfg := index $root.Values $role }}
{{- $ctx := dict "root" $root "role" $role }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "opentact-bridge.roleFullname" $ctx }}
  labels:
    {{- include "opentact-bridge.roleLabels" $ctx | nindent 4 }}
spec:
  {{- if not (dig "autoscaling" "enabled" false $cfg) }}
  replicas: {{ $cfg.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- with $cfg.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "opentact-bridge.roleSelectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      annotations:
        {{- /* A changed ConfigMap or Secret rolls the pods: env vars are read only at start. */}}
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "opentact-bridge.roleLabels" $ctx | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "opentact-bridge.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
      {{- /* Service links would add *_PORT/*_HOST variables for every Service in the namespace. */}}
      enableServiceLinks: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      {{- with (default $root.Values.priorityClassName $cfg.priorityClassName) }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $root.Values.initContainers }}
      initContainers:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $role }}
          image: {{ include "opentact-bridge.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ include "opentact-bridge.envValue" $root.Values.config.PORT }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "opentact-bridge.fullname" $root }}
            - secretRef:
                name: {{ include "opentact-bridge.secretName" $root }}
          env:
            - name: APP_ROLE
              value: {{ $role | quote }}
            {{- with $root.Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $cfg.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $root.Values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $root.Values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            {{- toYaml $root.Values.probes.readiness | nindent 12 }}
          lifecycle:
            {{- /* Keep serving while endpoints and load balancers drop the pod; then SIGTERM. */}}
            preStop:
              exec:
                command: ["sleep", {{ $root.Values.preStopSleepSeconds | toString | quote }}]
          resources:
            {{- toYaml $cfg.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $root.Values.subscriptions }}
            - name: subscriptions
              mountPath: {{ include "opentact-bridge.subscriptionsPath" $root | dir }}
              readOnly: true
            {{- end }}
            {{- with $root.Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpSizeLimit }}
        {{- if $root.Values.subscriptions }}
        - name: subscriptions
          configMap:
            name: {{ include "opentact-bridge.subscriptionsConfigMapName" $root }}
        {{- end }}
        {{- with $root.Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- /* An entry without labelSelector spreads this role's pods: that is almost always meant. */}}
      {{- $constraints := list }}
      {{- range $cfg.topologySpreadConstraints }}
      {{- $c := deepCopy . }}
      {{- if not (hasKey $c "labelSelector") }}
      {{- $_ := set $c "labelSelector" (dict "matchLabels" (include "opentact-bridge.roleSelectorLabels" $ctx | fromYaml)) }}
      {{- end }}
      {{- $constraints = append $constraints $c }}
      {{- end }}
      {{- with $constraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
