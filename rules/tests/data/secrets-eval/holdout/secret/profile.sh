export PATH="$HOME/bin:$PATH"
export DATADOG_API_KEY=@@gen:hex:32@@
