# ComfyUI with the custom nodes WanBot's workflows use, for compose.yaml's "gpu" profile.
# The models are not in the image: mount your ComfyUI models folder at /opt/ComfyUI/models.
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ARG COMFYUI_REF=v0.3.33
ARG WRAPPER_REF=1.4.7
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ffmpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt
RUN git clone --depth 1 --branch "${COMFYUI_REF}" https://github.com/comfyanonymous/ComfyUI.git
WORKDIR /opt/ComfyUI/custom_nodes
RUN git clone --depth 1 --branch "${WRAPPER_REF}" https://github.com/kijai/ComfyUI-WanVideoWrapper.git \
    && git clone --depth 1 https://github.com/Kosinkadink/ComfyUI-VideoHelperSuite.git \
    && git clone --depth 1 https://github.com/kijai/ComfyUI-KJNodes.git \
    && git clone --depth 1 https://github.com/kijai/ComfyUI-WanAnimatePreprocess.git
WORKDIR /opt/ComfyUI
RUN pip install --no-cache-dir -r requirements.txt \
    && for node in custom_nodes/*/; do \
         if [ -f "${node}requirements.txt" ]; then pip install --no-cache-dir -r "${node}requirements.txt"; fi; \
       done
EXPOSE 8188
CMD ["python", "main.py", "--listen", "0.0.0.0", "--port", "8188"]
