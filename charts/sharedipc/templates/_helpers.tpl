{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "sharedipc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels on every object. app.kubernetes.io/part-of is the one deploy/kustomization.yaml puts on
everything; the others are Helm's standard ones.
*/}}
{{- define "sharedipc.labels" -}}
helm.sh/chart: {{ include "sharedipc.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sharedipc
{{- end -}}

{{/* Selectors: as in deploy/, so a kustomize install can be taken over without new selectors. */}}
{{- define "sharedipc.operator.selectorLabels" -}}
app.kubernetes.io/name: sharedipc-operator
{{- end -}}
{{- define "sharedipc.agent.selectorLabels" -}}
app.kubernetes.io/name: sharedipc-agent
{{- end -}}

{{- define "sharedipc.operator.labels" -}}
{{ include "sharedipc.labels" . }}
{{ include "sharedipc.operator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}
{{- define "sharedipc.agent.labels" -}}
{{ include "sharedipc.labels" . }}
{{ include "sharedipc.agent.selectorLabels" . }}
app.kubernetes.io/component: agent
{{- end -}}

{{/*
Pod template labels: Helm's standard ones and the component's, but not part-of, which deploy/'s
kustomization puts on objects only (labels[].includeTemplates is false there).
*/}}
{{- define "sharedipc.podLabels" -}}
helm.sh/chart: {{ include "sharedipc.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "sharedipc.operator.podLabels" -}}
{{ include "sharedipc.podLabels" . }}
{{ include "sharedipc.operator.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}
{{- define "sharedipc.agent.podLabels" -}}
{{ include "sharedipc.podLabels" . }}
{{ include "sharedipc.agent.selectorLabels" . }}
app.kubernetes.io/component: agent
{{- end -}}

{{/* Namespaces: the operator's is the release's; the agent's is its own. */}}
{{- define "sharedipc.operatorNamespace" -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- define "sharedipc.agentNamespace" -}}
{{- required "agent.namespace is required" .Values.agent.namespace -}}
{{- end -}}

{{- define "sharedipc.operator.image" -}}
{{- printf "%s:%s" .Values.operator.image.repository (default .Chart.AppVersion .Values.operator.image.tag) -}}
{{- end -}}
{{- define "sharedipc.agent.image" -}}
{{- printf "%s:%s" .Values.agent.image.repository (default .Chart.AppVersion .Values.agent.image.tag) -}}
{{- end -}}

{{/* The operator's ServiceAccount as the API server names its requests. */}}
{{- define "sharedipc.operator.username" -}}
{{- printf "system:serviceaccount:%s:sharedipc-operator" (include "sharedipc.operatorNamespace" .) -}}
{{- end -}}

{{/* The agent's ServiceAccount as the API server names its requests. */}}
{{- define "sharedipc.agent.username" -}}
{{- printf "system:serviceaccount:%s:sharedipc-agent" (include "sharedipc.agentNamespace" .) -}}
{{- end -}}

{{/* The CSI plugin's directory on the node: socket, state and instance tmpfs mounts. */}}
{{- define "sharedipc.csi.pluginDir" -}}
{{ printf "%s/plugins/shm.sharedipc.dev" (trimSuffix "/" .Values.agent.kubeletRoot) }}
{{- end }}
