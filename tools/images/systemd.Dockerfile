# systemd as PID 1, without --privileged: run with --cgroupns host, /sys/fs/cgroup mounted rw,
# tmpfs on /run and /run/lock, and stop signal SIGRTMIN+3.
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd systemd-sysv \
    && rm -rf /var/lib/apt/lists/* \
    # Units that would touch the host or wait for hardware a container does not have.
    && systemctl mask systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
        systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
        systemd-remount-fs.service getty.target console-getty.service systemd-logind.service \
        systemd-timesyncd.service systemd-networkd.service systemd-resolved.service \
        systemd-firstboot.service systemd-sysctl.service systemd-hwdb-update.service \
    && systemctl enable nginx.service
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
