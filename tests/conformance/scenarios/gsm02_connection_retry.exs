Code.require_file("../T.exs", __DIR__)

# A connection that retries with back-off: handle_event_function, a state
# time-out per retry (200 ms, then doubled), next_event to (re)connect at once,
# and calls postponed while disconnected (answered in order once connected).
defmodule Connection do
  @behaviour :gen_statem
  @backoff 200

  def callback_mode, do: :handle_event_function

  def init(failures), do: {:ok, :disconnected, %{attempt: 0, failures: failures}, [{:next_event, :internal, :connect}]}

  def handle_event(:internal, :connect, :disconnected, data) do
    attempt = data.attempt + 1
    T.out("connect attempt", attempt)

    if attempt <= data.failures do
      delay = @backoff * Integer.pow(2, attempt - 1)
      T.out("retry in", delay)
      {:keep_state, %{data | attempt: attempt}, [{:state_timeout, delay, :retry}]}
    else
      T.out("connected after", attempt)
      {:next_state, :connected, %{data | attempt: 0}}
    end
  end

  def handle_event(:state_timeout, :retry, :disconnected, _data),
    do: {:keep_state_and_data, [{:next_event, :internal, :connect}]}

  def handle_event({:call, _from}, {:send, _msg}, :disconnected, _data),
    do: {:keep_state_and_data, :postpone}

  def handle_event({:call, from}, {:send, msg}, :connected, _data) do
    T.out("sent", msg)
    {:keep_state_and_data, [{:reply, from, {:ok, msg}}]}
  end

  def handle_event(:cast, {:drop, failures}, :connected, data) do
    T.out("dropped", failures)
    {:next_state, :disconnected, %{data | failures: failures}, [{:next_event, :internal, :connect}]}
  end

  def handle_event({:call, from}, :status, state, data),
    do: {:keep_state_and_data, [{:reply, from, {state, data.attempt}}]}

  def terminate(reason, state, _data), do: T.out("terminate", {reason, state})
end

T.main(fn ->
  {:ok, pid} = :gen_statem.start_link(Connection, 2, [])
  T.out("status", :gen_statem.call(pid, :status))
  # postponed until the third attempt connects, 600 ms from now
  T.out("reply", :gen_statem.call(pid, {:send, :hello}))
  :gen_statem.cast(pid, {:drop, 1})

  try do
    :gen_statem.call(pid, {:send, :late}, 50)
  catch
    :exit, {reason, _call} -> T.out("call exit", reason)
  end

  T.out("reply", :gen_statem.call(pid, {:send, :again}))
  Process.sleep(50)
  # the reply to :late was dropped
  T.flush()
  T.out("status", :gen_statem.call(pid, :status))
  T.out("stop", :gen_statem.stop(pid))
end)

T.done()
