Code.require_file("../T.exs", __DIR__)

# OTP's code lock (gen_statem docs, "State Enter Calls"): state_functions with
# state enter calls, a button time-out and an open time-out, both state time-outs.
defmodule DoorLock do
  @behaviour :gen_statem
  @button_timeout 250
  @open_time 150

  def callback_mode, do: [:state_functions, :state_enter]

  def init(code), do: {:ok, :locked, %{code: code, buttons: []}}

  def locked(:enter, old_state, data) do
    T.out("lock, entered from", old_state)
    {:keep_state, %{data | buttons: []}}
  end

  def locked(:state_timeout, :button, data) do
    T.out("buttons timed out", data.buttons)
    {:keep_state, %{data | buttons: []}}
  end

  def locked(:cast, {:button, button}, %{code: code, buttons: buttons} = data) do
    new_buttons = Enum.take(buttons ++ [button], -length(code))

    if new_buttons == code do
      {:next_state, :open, data}
    else
      {:keep_state, %{data | buttons: new_buttons}, [{:state_timeout, @button_timeout, :button}]}
    end
  end

  def locked(event_type, content, data), do: handle_common(:locked, event_type, content, data)

  def open(:enter, old_state, _data) do
    T.out("unlock, entered from", old_state)
    {:keep_state_and_data, [{:state_timeout, @open_time, :lock}]}
  end

  def open(:state_timeout, :lock, data) do
    T.out("open time over", :lock)
    {:next_state, :locked, data}
  end

  def open(:cast, {:button, button}, _data) do
    T.out("ignored while open", button)
    :keep_state_and_data
  end

  def open(event_type, content, data), do: handle_common(:open, event_type, content, data)

  defp handle_common(state, {:call, from}, :status, data),
    do: {:keep_state_and_data, [{:reply, from, {state, data.buttons}}]}

  def terminate(reason, state, _data), do: T.out("terminate", {reason, state})
end

T.main(fn ->
  {:ok, pid} = :gen_statem.start_link(DoorLock, [1, 2, 3], [])
  T.out("status", :gen_statem.call(pid, :status))
  :gen_statem.cast(pid, {:button, 1})
  Process.sleep(150)
  # the second press restarts the button time-out
  :gen_statem.cast(pid, {:button, 2})
  Process.sleep(150)
  T.out("status", :gen_statem.call(pid, :status))
  Process.sleep(250)
  T.out("status", :gen_statem.call(pid, :status))
  for b <- [9, 1, 2, 3], do: :gen_statem.cast(pid, {:button, b})
  T.out("status", :gen_statem.call(pid, :status))
  :gen_statem.cast(pid, {:button, 5})
  Process.sleep(400)
  T.out("status", :gen_statem.call(pid, :status))
  T.out("stop", :gen_statem.stop(pid))
end)

T.done()
