# Debian's apache2 on the systemd image, for the apache scenario. Each test host listens on its own
# 127.0.0.x (host networking): its prepare writes ports.conf, so the image listens nowhere and has
# no default site; nginx is off.
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends apache2 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && a2dissite -q 000-default \
    && : > /etc/apache2/ports.conf \
    && systemctl disable nginx.service \
    && systemctl enable apache2.service
