Code.require_file("../T.exs", __DIR__)
defmodule W do
  use GenServer
  def start_link(id), do: GenServer.start_link(__MODULE__, id)
  def init(id), do: (Process.flag(:trap_exit, true); T.out("start", id); {:ok, id})
  def handle_call(:id, _from, id), do: {:reply, id, id}
  def terminate(r, id), do: T.out("stop", {id, r})
end

defmodule H do
  def pids(sup), do: Map.new(Supervisor.which_children(sup), fn {id, pid, _, _} -> {id, pid} end)
  def changed(b, a), do: b |> Map.keys() |> Enum.filter(&(b[&1] != a[&1])) |> Enum.sort()
  def spec(id, opts \\ []), do: Supervisor.child_spec({W, id}, [id: id] ++ opts)
end

T.main(fn ->
  bad = %{id: :bad, start: {GenServer, :start_link, [W, :never_used]}}
  bad = %{bad | start: {Kernel, :apply, [fn -> {:error, :nope} end, []]}}
  # OTP 25 kills a non-trapping caller here; OTP 26+ (tether) returns the error.
  # Trapping, both return it.
  Process.flag(:trap_exit, true)
  T.out("result", Supervisor.start_link([H.spec(:a), bad, H.spec(:c)], strategy: :one_for_one))
end)
T.done()
